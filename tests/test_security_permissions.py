"""Permissions: a read-only user polls but cannot change anything; a user with no grant on a
stream learns nothing about it (every read and write there is Unauthorized, error 41, as
Iggy's permissioner answers), while its own stream keeps working."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from apache_iggy import (
    Consumer,
    GlobalPermissions,
    IggyClient,
    Permissions,
    PollingStrategy,
    SendMessage,
    StreamPermissions,
    TcpConfig,
    TcpReconnectionConfig,
)

PASSWORD = "s3cret-for-tests"


@pytest_asyncio.fixture
async def make_user(client: IggyClient, iggy_server
                    ) -> AsyncIterator[Callable[..., Awaitable[tuple[IggyClient, str]]]]:
    """``await make_user(permissions)`` → (a client logged in as a new user, its name);
    users are deleted afterwards."""
    made: list[str] = []

    async def make(permissions: Permissions | None) -> tuple[IggyClient, str]:
        username = f"u{uuid.uuid4().hex[:12]}"
        await client.create_user(username, PASSWORD, permissions=permissions)
        made.append(username)
        return await login_as(iggy_server.tcp_address, username), username

    yield make
    for username in made:
        await client.delete_user(username)


async def login_as(address: str, username: str) -> IggyClient:
    user_client = IggyClient(TcpConfig(server_address=address,
                                       reconnection=TcpReconnectionConfig(enabled=False)))
    await user_client.connect()
    await user_client.login_user(username, PASSWORD)
    return user_client


async def stream_with_messages(client: IggyClient, stream: str, count: int = 3) -> int:
    """A stream with topic "t" (1 partition) holding ``count`` messages; returns its id."""
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=1)
    await client.send_messages(stream, "t", 0, [SendMessage(f"{stream}-{i}") for i in range(count)])
    return (await client.get_stream(stream)).id


async def poll_all(client: IggyClient, stream: str) -> list[bytes]:
    polled = await client.poll_messages(stream, "t", consumer=Consumer.Single("sec"),
                                        partition_id=0, polling_strategy=PollingStrategy.First(),
                                        count=100, auto_commit=False)
    return [m.payload() for m in polled]


async def test_read_only_user_can_poll_but_not_send_or_delete(client, unique, make_user,
                                                               iggy_server):
    stream = unique("sec-ro")
    await stream_with_messages(client, stream)
    reader, reader_name = await make_user(Permissions(GlobalPermissions(
        read_streams=True, read_topics=True, poll_messages=True)))
    _, other_name = await make_user(None)

    assert await poll_all(reader, stream) == [f"{stream}-{i}".encode() for i in range(3)]
    assert (await reader.get_stream(stream)).name == stream

    refused: dict[str, Callable[[], Awaitable]] = {
        "send": lambda: reader.send_messages(stream, "t", 0, [SendMessage("intruder")]),
        "delete stream": lambda: reader.delete_stream(stream),
        "delete topic": lambda: reader.delete_topic(stream, "t"),
        "purge topic": lambda: reader.purge_topic(stream, "t"),
        "create stream": lambda: reader.create_stream(unique("sec-ro-new")),
        "create topic": lambda: reader.create_topic(stream, "t2", partitions_count=1),
        "create user": lambda: reader.create_user(f"x{uuid.uuid4().hex[:8]}", PASSWORD),
        "grant itself more": lambda: reader.update_permissions(
            reader_name, Permissions(GlobalPermissions(manage_streams=True))),
        "change another user's password": lambda: reader.change_password(
            other_name, PASSWORD, "taken-over-42"),
        "delete another user": lambda: reader.delete_user(other_name),
    }
    for action, call in refused.items():
        with pytest.raises(RuntimeError, match="Unauthorized"):
            await call()
            pytest.fail(f"a read-only user could {action}")
    assert await poll_all(client, stream) == [f"{stream}-{i}".encode() for i in range(3)]
    grants = (await client.get_user(reader_name)).permissions.global_permissions
    assert not grants.manage_streams
    await login_as(iggy_server.tcp_address, other_name)  # still there, password unchanged


async def test_user_without_permission_on_a_stream_sees_nothing_of_it(client, unique,
                                                                       make_user):
    own, secret = unique("sec-own"), unique("sec-secret")
    own_id = await stream_with_messages(client, own)
    await stream_with_messages(client, secret)
    await client.create_consumer_group(secret, "t", "secret-group")
    outsider, _ = await make_user(Permissions(streams={own_id: StreamPermissions(
        read_stream=True, read_topics=True, poll_messages=True, send_messages=True)}))

    # its own stream works (so the refusals below are about the other stream)
    await outsider.send_messages(own, "t", 0, [SendMessage("mine")])
    assert (await poll_all(outsider, own))[-1] == b"mine"

    attempts: dict[str, Callable[[], Awaitable]] = {
        "get_stream": lambda: outsider.get_stream(secret),
        "get_topics": lambda: outsider.get_topics(secret),
        "get_topic": lambda: outsider.get_topic(secret, "t"),
        "poll": lambda: poll_all(outsider, secret),
        "send": lambda: outsider.send_messages(secret, "t", 0, [SendMessage("x")]),
        "get_consumer_groups": lambda: outsider.get_consumer_groups(secret, "t"),
        "get_consumer_group": lambda: outsider.get_consumer_group(secret, "t", "secret-group"),
        "get_streams": lambda: outsider.get_streams(),
        "purge": lambda: outsider.purge_stream(secret),
    }
    leaks = {}
    for action, call in attempts.items():
        try:
            leaks[action] = await call()
        except RuntimeError as error:
            assert "Unauthorized" in str(error), f"{action}: {error}"
            assert secret not in str(error), f"{action} names the stream: {error}"
    assert not leaks, f"a user without permission got answers: {leaks}"
    assert len(await poll_all(client, secret)) == 3
