"""Retention by Iggy 0.9's rules, on the sandbox's state directly (fast, in memory) and once
through the SDK: the consumer barrier, the per-partition size budget and its floor, the
active segment, the budget of segments per pass, and the topic limit of a stream.

Every topic here has 1 MiB segments (the smallest Iggy accepts) and every send is one
1 MiB message, so each send seals one segment and opens an empty active one.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apache_iggy import (
    Consumer,
    IggyClient,
    IggyExpiry,
    MaxTopicSize,
    PollingStrategy,
    SendMessage,
)
from conftest import ROOT_CREDENTIALS

from helpers.connection import connect
from helpers.offsets import store_offset
from sandbox.cli import CLEANER_INTERVAL_ENV, parse_args
from sandbox.errors import Code, IggyError
from sandbox.http.batches import Outgoing, build_batch
from sandbox.launch import start_sandbox
from sandbox.state import retention
from sandbox.state.model import Session
from sandbox.state.streams import MAX_TOPICS_PER_STREAM
from sandbox.state.system import TRANSPORT_TCP, System
from sandbox.state.users import ROOT_USER_ID
from sandbox.wire.codec import (
    CONSUMER_GROUP,
    CONSUMER_SINGLE,
    PARTITION_ID,
    UINT64,
    ConsumerRef,
    PartitioningRef,
)

MIB = 1024 * 1024
STREAM = "retention"
DEADLINE = 15.0  # seconds any wait in this file may take


def make_system(max_message_size: int = retention.DEFAULT_MAX_MESSAGE_SIZE,
                data_dir: Path | None = None) -> System:
    system = System(data_dir, "iggy", "iggy", max_message_size)
    system.create_stream(system.users[ROOT_USER_ID], STREAM)
    return system


def make_topic(system: System, name: str, partitions: int = 1, expiry_micros: int = 0,
               max_topic_size: int = 0) -> None:
    options = {"segment_size": (UINT64, struct.pack("<Q", MIB))}
    if expiry_micros:
        options["message_expiry"] = (UINT64, struct.pack("<Q", expiry_micros))
    if max_topic_size:
        options["max_topic_size"] = (UINT64, struct.pack("<Q", max_topic_size))
    system.create_topic(system.users[ROOT_USER_ID], STREAM, name, partitions, options)


def send(system: System, topic: str, size: int = MIB, count: int = 1,
         partition_id: int = 0) -> None:
    """Send ``count`` messages of ``size`` bytes, one per batch: at 1 MiB, each one fills,
    seals and rotates a segment."""
    batch = build_batch([Outgoing(1, bytes(size), b"")], time.time_ns() // 1000)
    for _ in range(count):
        system.send_messages(system.users[ROOT_USER_ID], STREAM, topic,
                             PartitioningRef(PARTITION_ID, struct.pack("<I", partition_id)),
                             memoryview(batch), 1)


def partition(system: System, topic: str, partition_id: int = 0):
    return system.resolve(STREAM, topic)[1].partitions[partition_id]


def sealed(system: System, topic: str, partition_id: int = 0) -> int:
    return len(partition(system, topic, partition_id).log.retirable())


def store(system: System, topic: str, offset: int, consumer: ConsumerRef,
          session: Session | None = None) -> None:
    """Store as ``session`` would (a group's offset needs one of its members)."""
    system.store_consumer_offset(session, system.users[ROOT_USER_ID], consumer, STREAM, topic,
                                 0, offset)


# --- the consumer barrier ----------------------------------------------------------------


def test_a_stored_offset_pins_the_segments_that_end_past_it():
    system = make_system()
    make_topic(system, "pinned", expiry_micros=1)  # every sealed segment has expired
    send(system, "pinned", count=5)  # offsets 0..4, one per segment
    store(system, "pinned", 1, ConsumerRef(CONSUMER_SINGLE, "slow-reader"))
    assert system.clean() == 2  # the segments of offsets 0 and 1: read by everyone
    assert partition(system, "pinned").log.first_offset == 2
    assert system.clean() == 0  # pinned until the consumer moves on
    store(system, "pinned", 3, ConsumerRef(CONSUMER_SINGLE, "slow-reader"))
    assert system.clean() == 2
    assert (sealed(system, "pinned"), partition(system, "pinned").log.first_offset) == (1, 4)


def test_the_lowest_offset_of_any_consumer_or_group_is_the_barrier():
    system = make_system()
    make_topic(system, "shared", expiry_micros=1)
    root = system.users[ROOT_USER_ID]
    system.create_consumer_group(root, STREAM, "shared", "readers")
    member = system.open_session("127.0.0.1:50000", TRANSPORT_TCP)
    system.join_consumer_group(member, root, STREAM, "shared", "readers")
    send(system, "shared", count=5)
    store(system, "shared", 3, ConsumerRef(CONSUMER_SINGLE, 7))
    store(system, "shared", 0, ConsumerRef(CONSUMER_GROUP, "readers"), member)
    assert system.clean() == 1  # the group has read offset 0 only
    store(system, "shared", 4, ConsumerRef(CONSUMER_GROUP, "readers"), member)
    assert system.clean() == 3  # now the single consumer at 3 is the lowest
    assert partition(system, "shared").log.first_offset == 4


def test_delete_segments_stops_at_the_barrier_and_finishes_when_the_consumer_moves(tmp_path):
    system = make_system(data_dir=tmp_path)
    make_topic(system, "manual")
    send(system, "manual", count=3)  # offsets 0, 1, 2 in sealed segments
    store(system, "manual", 0, ConsumerRef(CONSUMER_SINGLE, 1))
    system.delete_segments(system.users[ROOT_USER_ID], STREAM, "manual", 0, 10)
    assert (sealed(system, "manual"), partition(system, "manual").log.first_offset) == (2, 1)
    system.close()

    system = System(tmp_path, "iggy", "iggy")  # the request survives a restart, as on Iggy
    send(system, "manual", count=2)  # offsets 3 and 4: sealed after the request
    store(system, "manual", 4, ConsumerRef(CONSUMER_SINGLE, 1))
    assert system.clean() == 2  # without a new command, only what was asked for goes
    log = partition(system, "manual").log
    assert (sealed(system, "manual"), log.first_offset) == (2, 3)
    system.close()


# --- the size cap: a budget of sealed bytes per partition, with a floor ------------------


def test_a_cap_below_the_floor_deletes_nothing():
    system = make_system()  # floor: 1 MiB segment + 64 MiB max message size
    make_topic(system, "small-cap", max_topic_size=3 * MIB)
    send(system, "small-cap", count=8)
    assert system.clean() == 0
    assert sealed(system, "small-cap") == 8


def test_a_cap_above_the_floor_trims_sealed_bytes_and_ignores_the_active_segment():
    system = make_system(max_message_size=MIB)  # floor: 2 MiB
    cap = 3 * MIB + MIB // 2
    make_topic(system, "capped", max_topic_size=cap)
    send(system, "capped", count=8)
    send(system, "capped", size=MIB * 8 // 10)  # 80 % of the active segment
    log = partition(system, "capped").log
    assert system.clean() == 5  # each sealed segment is a little over 1 MiB: 3 fit
    assert sealed(system, "capped") == 3
    assert sum(s.size for s in log.retirable()) <= cap < log.size_bytes  # active on top


def test_the_cap_is_divided_among_the_partitions():
    system = make_system(max_message_size=MIB)
    make_topic(system, "split", partitions=2, max_topic_size=8 * MIB)  # 4 MiB each
    send(system, "split", count=6, partition_id=0)
    send(system, "split", count=2, partition_id=1)
    assert system.clean() == 3  # the topic holds 8 segments, but only partition 0 is over
    assert (sealed(system, "split", 0), sealed(system, "split", 1)) == (3, 2)


def test_a_cap_that_divides_below_the_floor_is_raised_to_it(caplog):
    system = make_system(max_message_size=MIB)
    make_topic(system, "raised", partitions=4, max_topic_size=4 * MIB)  # 1 MiB each < 2 MiB
    send(system, "raised", count=4)
    assert system.clean() == 3  # keeps one sealed segment (up to 2 MiB), not none
    assert sealed(system, "raised") == 1
    assert "below what retention can enforce" in caplog.text


def test_a_cap_below_the_floor_is_reported_when_it_is_set(caplog):
    """As Iggy does: when a topic is created or updated with it, and when added partitions
    push each one's share below the floor; never for a cap it can enforce."""
    system = make_system(max_message_size=MIB)  # floor: 2 MiB a partition
    root = system.users[ROOT_USER_ID]

    def reports() -> int:
        return caplog.text.count("below what retention can enforce")

    make_topic(system, "shared", partitions=2, max_topic_size=4 * MIB)  # 2 MiB each
    assert reports() == 0
    system.create_partitions(root, STREAM, "shared", 1)  # 4/3 MiB each
    assert reports() == 1
    make_topic(system, "small", max_topic_size=MIB)
    assert reports() == 2
    system.update_topic(root, STREAM, "small", "small",
                        {"max_topic_size": (UINT64, struct.pack("<Q", MIB + 1))})
    assert reports() == 3
    system.update_topic(root, STREAM, "small", "small",
                        {"max_topic_size": (UINT64, struct.pack("<Q", 2 * MIB))})
    assert reports() == 3


# --- passes ---------------------------------------------------------------------------------


def test_one_pass_removes_at_most_16_segments_and_the_cleaner_runs_passes_until_done():
    system = make_system()
    make_topic(system, "backlog", expiry_micros=1)
    send(system, "backlog", count=20)
    part = partition(system, "backlog")
    first = retention.clean_partition(part, time.time_ns() // 1000, 1, None)
    assert (first.segments, first.messages, first.more) == (16, 16, True)
    assert sealed(system, "backlog") == 4
    assert system.clean() == 4
    assert (sealed(system, "backlog"), part.log.first_offset) == (0, 20)


def test_the_active_segment_is_never_retired():
    system = make_system()
    make_topic(system, "active", expiry_micros=1)
    send(system, "active")
    send(system, "active", size=MIB // 2)
    log = partition(system, "active").log
    assert system.clean() == 1
    assert system.clean() == 0
    assert (log.segments_count, log.messages_count) == (1, 1)
    with pytest.raises(ValueError, match="can be retired"):
        log.retire_oldest(1)


def test_append_times_never_go_back_across_a_rotation(monkeypatch):
    system = make_system()
    make_topic(system, "clock")
    send(system, "clock")  # seals the first segment; the active one is empty
    sealed_at = partition(system, "clock").log.segments[0].last_timestamp
    monkeypatch.setattr("sandbox.state.messages.now_micros", lambda: 1)  # the clock jumps back
    send(system, "clock", size=10)
    assert partition(system, "clock").log.segments[-1].timestamps[0] == sealed_at


# --- limits --------------------------------------------------------------------------------


def test_a_stream_holds_at_most_4096_topics():
    system = make_system()
    root = system.users[ROOT_USER_ID]
    for n in range(MAX_TOPICS_PER_STREAM):
        system.create_topic(root, STREAM, f"t{n}", 0, {})
    with pytest.raises(IggyError) as refused:
        system.create_topic(root, STREAM, "one-too-many", 0, {})
    assert refused.value.code == Code.TOO_MANY_TOPICS == 2021
    system.delete_topic(root, STREAM, "t100")
    assert system.create_topic(root, STREAM, "in-the-gap", 0, {}).id == 100


def test_the_cleaner_interval_is_read_as_iggy_reads_it(monkeypatch, capsys):
    """Iggy's variable sets the default, as a duration ("1s", "1 m"); the flag wins."""
    monkeypatch.delenv(CLEANER_INTERVAL_ENV, raising=False)
    assert parse_args([]).cleaner_interval == 60
    for text, seconds in (("1 m", 60), ("1s", 1), ("500ms", 0.5), ("2.5", 2.5)):
        monkeypatch.setenv(CLEANER_INTERVAL_ENV, text)
        assert parse_args([]).cleaner_interval == seconds
    assert parse_args(["--cleaner-interval", "2"]).cleaner_interval == 2
    for bad in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(SystemExit):
            parse_args(["--cleaner-interval", bad])
        assert CLEANER_INTERVAL_ENV in capsys.readouterr().err


# --- through the SDK, with the cleaner running ------------------------------------------------


@pytest.fixture
def quick_cleaner(sandbox_only):
    """An in-memory sandbox whose cleaner runs every 0.2 s, with a 1 MiB max message size."""
    env = {**os.environ, **ROOT_CREDENTIALS}
    with start_sandbox(extra_args=("--cleaner-interval", "0.2", "--max-message-size", "1 MiB"),
                       env=env) as process:
        yield process


async def test_the_cleaner_honours_the_barrier_and_the_configured_floor(quick_cleaner):
    client = await connect(quick_cleaner.tcp_address, username="iggy", password="iggy",
                           announce=False)
    await client.create_stream(STREAM)
    await client.create_topic(STREAM, "expiring", partitions_count=1, segment_size=MIB,
                              message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=1)))
    # a 3 MiB cap is enforced with a 1 MiB max message size (floor 2 MiB), not with 64 MiB
    await client.create_topic(STREAM, "capped", partitions_count=1, segment_size=MIB,
                              max_topic_size=MaxTopicSize.Custom(3 * MIB))
    for topic in ("expiring", "capped"):
        for n in range(4):  # 4 segments sealed by two 900 kB messages each: offsets 0..7
            await client.send_messages(STREAM, topic, 0,
                                       [SendMessage(bytes([n]) * 900_000) for _ in range(2)])
        await client.send_messages(STREAM, topic, 0, [SendMessage("in the active segment")])
    await store_offset(client, STREAM, "expiring", 3, "reader")

    assert await first_offset_after_cleaning(client, "expiring", 4) == 4  # 0..3 were read
    assert await first_offset_after_cleaning(client, "capped", 6) == 6  # one 1.8 MB segment
    await asyncio.sleep(0.6)  # three more cleaner passes: the barrier holds
    assert await first_offset(client, "expiring") == 4
    await store_offset(client, STREAM, "expiring", 7, "reader")
    assert await first_offset_after_cleaning(client, "expiring", 8) == 8


async def first_offset(client: IggyClient, topic: str) -> int | None:
    got = await client.poll_messages(STREAM, topic, consumer=Consumer.Single("inspector"),
                                     polling_strategy=PollingStrategy.First(), count=1,
                                     auto_commit=False)
    return got[0].offset() if got else None


async def first_offset_after_cleaning(client: IggyClient, topic: str,
                                      expected: int) -> int | None:
    deadline = time.monotonic() + DEADLINE
    while (found := await first_offset(client, topic)) != expected and (
            time.monotonic() < deadline):
        await asyncio.sleep(0.1)
    return found
