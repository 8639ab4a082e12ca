"""What survives a stop, a crash and damaged files: the sandbox's own data directory.

Each test runs its own sandbox (``fresh_sandbox``) and restarts it on the same data
directory and ports. These tests need process control, so they are skipped against a real
server.
"""

from __future__ import annotations

import asyncio
import random
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from apache_iggy import (
    Consumer,
    GlobalPermissions,
    IggyClient,
    IggyExpiry,
    Permissions,
    PollingStrategy,
    SendMessage,
    StreamPermissions,
    TcpConfig,
    TcpReconnectionConfig,
)

from helpers.connection import connect
from sandbox.launch import SandboxProcess, SandboxStartError, start_sandbox

pytestmark = pytest.mark.usefixtures("sandbox_only")

STREAM, TOPIC = "durable", "t"
DEADLINE = 10.0  # seconds any loop in this file may run


@pytest.fixture
def restart(fresh_sandbox):
    """``restart(process)`` stops it (``kill=True``: SIGKILL) and starts a sandbox on the
    same data directory and ports; every sandbox started here is stopped afterwards."""
    started: list[SandboxProcess] = []

    def again(process: SandboxProcess, kill: bool = False) -> SandboxProcess:
        if kill:
            process.kill()
        else:
            process.stop()
        started.append(start_on_same_place(process))
        return started[-1]

    yield again
    for process in started:
        process.stop()


def start_on_same_place(process: SandboxProcess) -> SandboxProcess:
    data_dir = Path(process.data_dir)
    return start_sandbox(tcp=process.tcp_address, http=process.http_url.removeprefix("http://"),
                         data_dir=data_dir, log_file=data_dir.with_suffix(".log"))


async def poll_all(client, partition: int = 0, stream=STREAM) -> list:
    """Every message of a partition, page by page."""
    messages: list = []
    for _ in range(100):
        page = await client.poll_messages(stream, TOPIC, consumer=Consumer.Single("audit"),
                                          polling_strategy=PollingStrategy.Offset(len(messages)),
                                          count=500, auto_commit=False, partition_id=partition)
        if not page:
            return messages
        messages += page
    raise AssertionError("more than 100 pages: the partition does not end")


def payloads(messages) -> list[bytes]:
    return [m.payload() for m in messages]


def partition_folder(process: SandboxProcess, stream_id: int, topic_id: int = 0,
                     partition_id: int = 0) -> Path:
    return Path(process.data_dir) / "streams" / str(stream_id) / str(topic_id) / str(partition_id)


def batch_starts(segment: Path) -> list[int]:
    """Byte positions of the batches in a segment file (batch_length is the u64 at 32)."""
    data = segment.read_bytes()
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        (length,) = struct.unpack_from("<Q", data, position + 32)
        position += length
    return starts


# --- a clean restart ----------------------------------------------------------------------


async def test_everything_survives_a_restart(fresh_sandbox, restart):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    await client.create_stream("other")
    await client.create_stream(STREAM)
    await client.create_topic(STREAM, TOPIC, partitions_count=3, compression_algorithm="gzip",
                              message_expiry=IggyExpiry.ExpireDuration(timedelta(hours=1)),
                              segment_size=1024 * 1024)
    texts = [f"message {i:03d} " + "x" * 40_000 for i in range(60)]
    for start in range(0, 60, 6):  # batches of 6, over three 1 MiB segments
        await client.send_messages(STREAM, TOPIC, 0, [SendMessage(t) for t in
                                                      texts[start:start + 6]])
    await client.send_messages(STREAM, TOPIC, 1, [SendMessage("one"), SendMessage("two")])
    permissions = Permissions(GlobalPermissions(read_streams=True),
                              {1: StreamPermissions(send_messages=True)})
    await client.create_user("alice", "alice-pass", permissions=permissions)
    await client.poll_messages(STREAM, TOPIC, consumer=Consumer.Single("reader"),
                               polling_strategy=PollingStrategy.Next(), count=10,
                               auto_commit=True, partition_id=0)
    await client.create_consumer_group(STREAM, TOPIC, "workers")
    await client.join_consumer_group(STREAM, TOPIC, "workers")
    await client.poll_messages(STREAM, TOPIC, consumer=Consumer.Group("workers"),
                               polling_strategy=PollingStrategy.Next(), count=25,
                               auto_commit=True)  # the first assigned partition: 0
    before = await client.get_topic(STREAM, TOPIC)
    partitions_before = [(p.id, p.messages_count, p.current_offset, p.size)
                         for p in before.partitions]
    assert before.partitions[0].segments_count > 1

    server = restart(fresh_sandbox)
    client = await connect(server.tcp_address, announce=False)
    assert [(s.id, s.name) for s in await client.get_streams()] == [(0, "other"),
                                                                    (1, STREAM)]
    topic = await client.get_topic(STREAM, TOPIC)
    assert (topic.id, topic.partitions_count, topic.compression_algorithm) == (0, 3, "gzip")
    assert topic.message_expiry.duration == timedelta(hours=1)
    assert [(p.id, p.messages_count, p.current_offset, p.size)
            for p in topic.partitions] == partitions_before
    assert [p.segments_count for p in topic.partitions] == [
        p.segments_count for p in before.partitions]
    assert payloads(await poll_all(client, 0)) == [t.encode() for t in texts]
    assert payloads(await poll_all(client, 1)) == [b"one", b"two"]

    alice = await client.get_user("alice")
    assert alice.permissions == permissions
    alice_client = await connect(server.tcp_address, username="alice", password="alice-pass",
                                 announce=False)
    assert [s.name for s in await alice_client.get_streams()] == ["other", STREAM]

    resumed = await client.poll_messages(STREAM, TOPIC, consumer=Consumer.Single("reader"),
                                         polling_strategy=PollingStrategy.Next(), count=2,
                                         auto_commit=False, partition_id=0)
    assert [m.offset() for m in resumed] == [10, 11]
    group = await client.get_consumer_group(STREAM, TOPIC, "workers")
    assert (group.id, group.members_count) == (0, 0)  # members are sessions: gone
    await client.join_consumer_group(STREAM, TOPIC, "workers")
    resumed = await client.poll_messages(STREAM, TOPIC, consumer=Consumer.Group("workers"),
                                         polling_strategy=PollingStrategy.Next(), count=2,
                                         auto_commit=False)
    assert [(m.partition_id(), m.offset()) for m in resumed] == [(0, 25), (0, 26)]

    response = await client.send_messages(STREAM, TOPIC, 0, [SendMessage("after restart")])
    assert response.confirmations[0].base_offset == 60


async def test_deleted_things_stay_deleted_after_a_restart(fresh_sandbox, restart):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    for name in ("gone", STREAM):
        await client.create_stream(name)
        await client.create_topic(name, TOPIC, partitions_count=1)
        await client.send_messages(name, TOPIC, 0, [SendMessage("old")] * 3)
    await client.purge_topic(STREAM, TOPIC)
    await client.delete_stream("gone")
    await client.create_stream("reborn")  # takes id 0 again: none of "gone" may show
    await client.create_topic("reborn", TOPIC, partitions_count=1)
    assert (await client.get_stream("reborn")).id == 0
    assert await poll_all(client, stream="reborn") == []
    await client.create_user("bob", "bob-pass")
    await client.delete_user("bob")

    server = restart(fresh_sandbox)
    client = await connect(server.tcp_address, announce=False)
    assert [s.name for s in await client.get_streams()] == ["reborn", STREAM]
    assert await poll_all(client) == []
    assert await poll_all(client, stream="reborn") == []
    assert await client.get_user("bob") is None
    response = await client.send_messages(STREAM, TOPIC, 0, [SendMessage("fresh")])
    assert response.confirmations[0].base_offset == 0


# --- a crash ------------------------------------------------------------------------------


async def test_every_acknowledged_message_survives_sigkill(fresh_sandbox, restart):
    setup = await connect(fresh_sandbox.tcp_address, announce=False)
    await setup.create_stream(STREAM)
    await setup.create_topic(STREAM, TOPIC, partitions_count=1)
    sender = IggyClient(TcpConfig(server_address=fresh_sandbox.tcp_address,
                                  reconnection=TcpReconnectionConfig(enabled=False)))
    await sender.connect()
    await sender.login_user("iggy", "iggy")

    acknowledged: list[str] = []
    last_batch = 0

    async def send_until_the_crash() -> None:
        nonlocal last_batch
        n = 0
        while n < 1_000_000:
            batch = [f"m{n + i}" for i in range(1 + n % 5)]
            last_batch = len(batch)
            try:
                await sender.send_messages(STREAM, TOPIC, 0, [SendMessage(t) for t in batch])
            except RuntimeError:
                return
            acknowledged.extend(batch)
            n += len(batch)

    sending = asyncio.create_task(send_until_the_crash())
    kill_after = random.uniform(0.3, 0.8)
    await asyncio.sleep(kill_after)
    assert not sending.done(), "the send loop stopped before the crash"
    server = restart(fresh_sandbox, kill=True)
    await asyncio.wait_for(sending, DEADLINE)

    client = await connect(server.tcp_address, announce=False)
    stored = await poll_all(client)
    why = f"killed after {kill_after:.2f}s with {len(acknowledged)} acknowledged"
    assert len(acknowledged) > 0, why
    assert len(acknowledged) <= len(stored) <= len(acknowledged) + last_batch, why
    assert payloads(stored)[:len(acknowledged)] == [t.encode() for t in acknowledged], why
    assert [m.offset() for m in stored] == list(range(len(stored))), why


# --- damaged files ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage appended", "last batch cut in half"])
async def test_a_torn_tail_is_cut_on_start(fresh_sandbox, restart, damage):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    await client.create_stream(STREAM)
    await client.create_topic(STREAM, TOPIC, partitions_count=1)
    for batch in range(5):
        await client.send_messages(STREAM, TOPIC, 0, [SendMessage(f"b{batch}-{i}")
                                                      for i in range(2)])
    stream_id = (await client.get_stream(STREAM)).id
    folder = partition_folder(fresh_sandbox, stream_id)
    fresh_sandbox.stop()

    (segment,) = sorted(folder.glob("*.log"))
    assert segment.name == f"{0:020d}.log"
    original = segment.read_bytes()
    if damage == "garbage appended":
        torn = bytes(range(7, 107))
        segment.write_bytes(original + torn)
        kept = [f"b{b}-{i}" for b in range(5) for i in range(2)]
    else:
        last = batch_starts(segment)[-1]
        cut = last + (len(original) - last) // 2
        segment.write_bytes(original[:cut])
        torn = original[last:cut]
        kept = [f"b{b}-{i}" for b in range(4) for i in range(2)]

    server = restart(fresh_sandbox)
    client = await connect(server.tcp_address, announce=False)
    assert payloads(await poll_all(client)) == [t.encode() for t in kept]
    (aside,) = folder.glob(f"{segment.name}.torn-*")
    assert aside.read_bytes() == torn
    response = await client.send_messages(STREAM, TOPIC, 0, [SendMessage("next")])
    assert response.confirmations[0].base_offset == len(kept)
    assert payloads(await poll_all(client))[-1] == b"next"


async def test_corrupt_metadata_stops_the_start_with_a_clear_message(fresh_sandbox):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    await client.create_stream(STREAM)
    fresh_sandbox.stop()
    metadata = Path(fresh_sandbox.data_dir) / "metadata.json"
    damaged = metadata.read_bytes()[:-7] + b"\x00garbage"
    metadata.write_bytes(damaged)

    with pytest.raises(SandboxStartError) as refused:
        start_on_same_place(fresh_sandbox)
    assert "metadata.json" in str(refused.value)
    assert metadata.read_bytes() == damaged  # nothing overwritten or "repaired"
