"""Server-wide commands through the real SDK: ping, login, stats and the option catalog."""

from __future__ import annotations

import pytest
from apache_iggy import (
    HeaderValue,
    IggyClient,
    SendMessage,
    TcpConfig,
    TcpReconnectionConfig,
)

from coursekit.settings import get_settings
from helpers.connection import connect


def bare_client(address: str) -> IggyClient:
    """A client that never logs in by itself and never redials."""
    return IggyClient(
        TcpConfig(server_address=address, reconnection=TcpReconnectionConfig(enabled=False))
    )


def root() -> tuple[str, str]:
    settings = get_settings()
    return settings.username, settings.password


async def test_ping_answers_before_login(iggy_server):
    client = bare_client(iggy_server.tcp_address)
    await client.connect()
    await client.ping()  # raises when the server does not answer
    with pytest.raises(RuntimeError):
        await client.get_streams()


async def test_login_fetches_cluster_metadata_and_then_reads_work(iggy_server):
    # login_user makes the SDK ask for the cluster metadata right after the handshake
    client = bare_client(iggy_server.tcp_address)
    await client.connect()
    await client.login_user(*root())
    assert isinstance(await client.get_streams(), list)
    await client.ping()  # raises when the server does not answer


@pytest.mark.parametrize("wrong", ["password", "username"])
async def test_bad_credentials_are_refused(iggy_server, wrong):
    username, password = root()
    if wrong == "password":
        password += "-not"
    else:
        username = "nobody-here"
    client = bare_client(iggy_server.tcp_address)
    await client.connect()
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await client.login_user(username, password)
    await client.ping()  # raises when the server does not answer


async def test_logout_ends_the_session_and_login_starts_a_new_one(iggy_server):
    client = bare_client(iggy_server.tcp_address)
    await client.connect()
    await client.login_user(*root())
    await client.logout_user()
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        await client.get_streams()
    await client.login_user(*root())
    assert isinstance(await client.get_streams(), list)


async def test_stats_name_the_server_and_count_what_exists(iggy_server, client, unique):
    before = await client.get_stats()
    stream = unique("sys-stats")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=2)
    await client.send_messages(stream, "t", 1, [SendMessage(f"m{i}") for i in range(3)])
    await client.create_consumer_group(stream, "t", "g")
    after = await client.get_stats()

    assert ("sandbox" in after.iggy_server_version) == (iggy_server.kind == "sandbox")
    assert after.iggy_server_version.startswith("0.9.0")
    assert after.iggy_server_semver == 9000
    assert after.streams_count == before.streams_count + 1
    assert after.topics_count == before.topics_count + 1
    assert after.partitions_count == before.partitions_count + 2
    assert after.messages_count == before.messages_count + 3
    assert after.consumer_groups_count == before.consumer_groups_count + 1
    assert after.clients_count >= 1
    assert after.start_time == before.start_time
    if iggy_server.process is not None:
        assert after.process_id == iggy_server.process.pid


async def test_stats_need_a_server_permission(iggy_server, client, unique):
    name = unique("sys-nostats")
    await client.create_user(name, "secret-pw")
    try:
        plain = await connect(iggy_server.tcp_address, username=name, password="secret-pw",
                              announce=False)
        with pytest.raises(RuntimeError, match="Unauthorized"):
            await plain.get_stats()
    finally:
        await client.delete_user(name)


async def test_describe_options_lists_the_topic_catalog(client):
    options = {spec.key: spec for spec in await client.describe_options("topic")}
    assert {"compression_algorithm", "message_expiry", "max_topic_size", "segment_size",
            "messages_required_to_save", "size_of_messages_required_to_save",
            "preallocate_segments", "durability", "consumer_offset_durability"} <= set(options)
    assert options["segment_size"].kind == "uint64"
    assert options["segment_size"].default_value == HeaderValue.UnsignedInt64(1_073_741_824)
    assert options["compression_algorithm"].default_value == HeaderValue.String("none")
    assert options["preallocate_segments"].kind == "bool"
    assert options["messages_required_to_save"].kind == "uint32"
    assert all(spec.description for spec in options.values())


async def test_describe_options_for_streams_and_users_is_empty(client):
    assert await client.describe_options("stream") == []
    assert await client.describe_options("user") == []
    with pytest.raises(ValueError):
        await client.describe_options("partition")

