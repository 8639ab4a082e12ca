"""Users and permissions through the real SDK: what a user may see and do, and that a
refusal is Unauthorized rather than data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
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
    TopicPermissions,
    UserStatus,
)

from coursekit.settings import get_settings
from helpers.connection import connect

PASSWORD = "s3cret-pass"
TOPIC = "t"


@pytest.fixture
async def new_user(iggy_server, client, unique):
    """``await new_user("prefix", permissions)`` → the created user's details; every user
    made here is deleted afterwards."""
    made: list[int] = []

    async def make(prefix: str, permissions: Permissions | None = None):
        user = await client.create_user(unique(prefix), PASSWORD, permissions=permissions)
        made.append(user.id)
        return user

    yield make
    root = await connect(announce=False)
    for user_id in made:
        if await root.get_user(user_id) is not None:
            await root.delete_user(user_id)


@pytest.fixture
def login_as(iggy_server) -> Callable[[str], Awaitable[IggyClient]]:
    async def login(username: str, password: str = PASSWORD) -> IggyClient:
        return await connect(iggy_server.tcp_address, username=username, password=password,
                             announce=False)

    return login


async def try_login(address: str, username: str, password: str) -> None:
    """Log in on a client that never redials; RuntimeError when refused."""
    client = IggyClient(TcpConfig(server_address=address,
                                  reconnection=TcpReconnectionConfig(enabled=False)))
    await client.connect()
    await client.login_user(username, password)


async def stream_with_message(client, unique, prefix: str) -> str:
    stream = unique(prefix)
    await client.create_stream(stream)
    await client.create_topic(stream, TOPIC, partitions_count=1)
    await client.send_messages(stream, TOPIC, 0, [SendMessage("secret data")])
    return stream


async def poll_first(client, stream) -> list[bytes]:
    polled = await client.poll_messages(stream, TOPIC, consumer=Consumer.Single("perm"),
                                        polling_strategy=PollingStrategy.First(), count=10,
                                        auto_commit=False, partition_id=0)
    return [m.payload() for m in polled]


async def assert_unauthorized(call: Callable[[], Awaitable[object]]) -> None:
    with pytest.raises(RuntimeError, match="Unauthorized"):
        await call()


# --- user management ----------------------------------------------------------------------


async def test_root_user_is_id_zero_with_all_permissions(client):
    root = await client.get_user(0)
    assert root.username == get_settings().username
    assert root.status == UserStatus.Active
    everything = root.permissions.global_permissions
    assert everything.manage_servers and everything.manage_users and everything.manage_streams
    assert everything.send_messages and everything.poll_messages


async def test_create_get_and_list_a_user(client, new_user):
    permissions = Permissions(
        GlobalPermissions(read_streams=True, read_users=True),
        {7: StreamPermissions(send_messages=True,
                              topics={1: TopicPermissions(poll_messages=True)})},
    )
    created = await new_user("usr-create", permissions)
    assert created.status == UserStatus.Active
    assert created.permissions == permissions
    by_name = await client.get_user(created.username)
    by_id = await client.get_user(created.id)
    for found in (by_name, by_id):
        assert (found.id, found.username, found.created_at) == (
            created.id, created.username, created.created_at)
        assert found.permissions == permissions
        assert found.permissions.streams[7].topics[1].poll_messages is True
    listed = {u.username: u for u in await client.get_users()}
    assert listed[created.username].id == created.id


async def test_user_ids_take_the_lowest_free_slot(client, new_user):
    first = await new_user("usr-ids")
    second = await new_user("usr-ids")
    assert second.id > first.id > 0
    await client.delete_user(first.id)
    third = await new_user("usr-ids")
    assert third.id == first.id


async def test_duplicate_user_is_refused(client, new_user):
    user = await new_user("usr-dup")
    with pytest.raises(RuntimeError, match="User already exists"):
        await client.create_user(user.username, "another-pass")


async def test_missing_user_reads_as_none_and_changes_fail(client, unique):
    missing = unique("usr-missing")
    assert await client.get_user(missing) is None
    for change in (lambda: client.delete_user(missing),
                   lambda: client.update_user(missing, username=unique("usr-x")),
                   lambda: client.change_password(missing, PASSWORD, "new-pass"),
                   lambda: client.update_permissions(missing, None)):
        with pytest.raises(RuntimeError, match="was not found"):
            await change()


async def test_root_cannot_be_deleted_or_restricted(client):
    with pytest.raises(RuntimeError, match="Cannot delete user"):
        await client.delete_user(0)
    with pytest.raises(RuntimeError, match="Cannot change permissions"):
        await client.update_permissions(0, None)
    assert (await client.get_user(0)).permissions.global_permissions.manage_users


async def test_rename_and_deactivate_a_user(iggy_server, client, new_user, unique):
    user = await new_user("usr-update")
    renamed = unique("usr-renamed")
    await client.update_user(user.username, username=renamed, status=UserStatus.Inactive)
    assert await client.get_user(user.username) is None
    found = await client.get_user(user.id)
    assert (found.username, found.status) == (renamed, UserStatus.Inactive)
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await try_login(iggy_server.tcp_address, renamed, PASSWORD)
    await client.update_user(user.id, status=UserStatus.Active)
    await try_login(iggy_server.tcp_address, renamed, PASSWORD)


async def test_change_password(iggy_server, client, new_user):
    user = await new_user("usr-password")
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await client.change_password(user.username, "wrong-current", "new-pass-1")
    await client.change_password(user.username, PASSWORD, "new-pass-1")
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await try_login(iggy_server.tcp_address, user.username, PASSWORD)
    await try_login(iggy_server.tcp_address, user.username, "new-pass-1")


async def test_deleted_user_cannot_log_in(iggy_server, client, new_user):
    user = await new_user("usr-deleted")
    await try_login(iggy_server.tcp_address, user.username, PASSWORD)
    await client.delete_user(user.username)
    assert await client.get_user(user.username) is None
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await try_login(iggy_server.tcp_address, user.username, PASSWORD)


async def test_update_permissions_replaces_or_clears_them(client, new_user):
    user = await new_user("usr-perms", Permissions(GlobalPermissions(read_streams=True)))
    replacement = Permissions(GlobalPermissions(send_messages=True))
    await client.update_permissions(user.id, replacement)
    assert (await client.get_user(user.id)).permissions == replacement
    await client.update_permissions(user.id, None)
    assert (await client.get_user(user.id)).permissions is None


# --- what a user may do -------------------------------------------------------------------


async def test_read_only_user_can_poll_but_not_send_or_delete(client, unique, new_user,
                                                              login_as):
    stream = await stream_with_message(client, unique, "usr-readonly")
    user = await new_user("usr-reader", Permissions(GlobalPermissions(read_streams=True)))
    reader = await login_as(user.username)

    assert stream in [s.name for s in await reader.get_streams()]
    assert (await reader.get_topic(stream, TOPIC)).messages_count == 1
    assert await poll_first(reader, stream) == [b"secret data"]
    await assert_unauthorized(
        lambda: reader.send_messages(stream, TOPIC, 0, [SendMessage("nope")]))
    await assert_unauthorized(lambda: reader.delete_stream(stream))
    await assert_unauthorized(lambda: reader.purge_topic(stream, TOPIC))
    await assert_unauthorized(lambda: reader.create_stream(unique("usr-not-mine")))
    await assert_unauthorized(lambda: reader.get_users())
    await assert_unauthorized(lambda: reader.create_user(unique("usr-sneaky"), PASSWORD))
    assert (await client.get_topic(stream, TOPIC)).messages_count == 1
    assert await client.get_stream(stream) is not None


async def test_user_without_permissions_sees_no_stream_data(client, unique, new_user, login_as):
    stream = await stream_with_message(client, unique, "usr-none")
    user = await new_user("usr-nobody")
    nobody = await login_as(user.username)
    await assert_unauthorized(lambda: nobody.get_streams())
    await assert_unauthorized(lambda: nobody.get_stream(stream))
    await assert_unauthorized(lambda: nobody.get_topic(stream, TOPIC))
    await assert_unauthorized(lambda: poll_first(nobody, stream))
    await assert_unauthorized(
        lambda: nobody.send_messages(stream, TOPIC, 0, [SendMessage("nope")]))


async def test_stream_permission_covers_that_stream_only(client, unique, new_user, login_as):
    mine = await stream_with_message(client, unique, "usr-mine")
    other = await stream_with_message(client, unique, "usr-other")
    mine_id = (await client.get_stream(mine)).id
    user = await new_user("usr-scoped", Permissions(
        streams={mine_id: StreamPermissions(read_stream=True)}))
    scoped = await login_as(user.username)

    assert (await scoped.get_stream(mine)).name == mine
    assert await poll_first(scoped, mine) == [b"secret data"]
    await assert_unauthorized(lambda: scoped.get_stream(other))
    await assert_unauthorized(lambda: poll_first(scoped, other))
    await assert_unauthorized(lambda: scoped.get_streams())
    await assert_unauthorized(
        lambda: scoped.send_messages(mine, TOPIC, 0, [SendMessage("nope")]))


async def test_topic_permission_to_send_only(client, unique, new_user, login_as):
    stream = await stream_with_message(client, unique, "usr-topic")
    stream_id = (await client.get_stream(stream)).id
    user = await new_user("usr-sender", Permissions(streams={
        stream_id: StreamPermissions(topics={0: TopicPermissions(send_messages=True)})}))
    sender = await login_as(user.username)
    await sender.send_messages(stream, TOPIC, 0, [SendMessage("from sender")])
    await assert_unauthorized(lambda: poll_first(sender, stream))
    assert await poll_first(client, stream) == [b"secret data", b"from sender"]


async def test_new_permissions_apply_to_a_logged_in_user(client, unique, new_user, login_as):
    stream = await stream_with_message(client, unique, "usr-grant")
    user = await new_user("usr-grantee")
    grantee = await login_as(user.username)
    await assert_unauthorized(lambda: poll_first(grantee, stream))
    await client.update_permissions(user.id, Permissions(GlobalPermissions(poll_messages=True)))
    assert await poll_first(grantee, stream) == [b"secret data"]
