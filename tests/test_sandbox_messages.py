"""Sending and polling through the real SDK: partitioning, offsets, polling strategies,
auto-commit and user headers, as Iggy 0.9.0 defines them."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

import pytest
import xxhash
from apache_iggy import (
    Consumer,
    HeaderKey,
    HeaderValue,
    IggyExpiry,
    Partitioning,
    PollingStrategy,
    SendMessage,
)

from helpers.connection import connect
from sandbox.launch import start_sandbox

TOPIC = "t"


async def new_topic(client, unique, prefix: str, partitions: int = 1) -> str:
    """A fresh stream with one topic ``t``; returns the stream name."""
    stream = unique(prefix)
    await client.create_stream(stream)
    await client.create_topic(stream, TOPIC, partitions_count=partitions)
    return stream


async def poll(client, stream, strategy, *, count=100, partition=0, consumer="msg-reader",
               auto_commit=False) -> list:
    return await client.poll_messages(
        stream, TOPIC, consumer=Consumer.Single(consumer), polling_strategy=strategy,
        count=count, auto_commit=auto_commit, partition_id=partition)


def offsets(messages) -> list[int]:
    return [m.offset() for m in messages]


def payloads(messages) -> list[bytes]:
    return [m.payload() for m in messages]


async def send(client, stream, partition: int, texts) -> int:
    """Send ``texts`` as one batch to ``partition``; returns the batch's base offset."""
    response = await client.send_messages(stream, TOPIC, Partitioning.partition_id(partition),
                                          [SendMessage(t) for t in texts])
    (confirmation,) = response.confirmations
    assert confirmation.partition_id == partition
    return confirmation.base_offset


# --- partitioning and offsets -------------------------------------------------------------


async def test_offsets_start_at_zero_in_every_partition(client, unique):
    stream = await new_topic(client, unique, "msg-offsets", partitions=2)
    assert await send(client, stream, 0, ["a0", "a1", "a2"]) == 0
    assert await send(client, stream, 1, ["b0", "b1"]) == 0
    assert await send(client, stream, 0, ["a3"]) == 3

    in_0 = await poll(client, stream, PollingStrategy.First(), partition=0)
    in_1 = await poll(client, stream, PollingStrategy.First(), partition=1)
    assert (offsets(in_0), payloads(in_0)) == ([0, 1, 2, 3], [b"a0", b"a1", b"a2", b"a3"])
    assert (offsets(in_1), payloads(in_1)) == ([0, 1], [b"b0", b"b1"])
    assert {m.partition_id() for m in in_1} == {1}

    topic = await client.get_topic(stream, TOPIC)
    assert [(p.messages_count, p.current_offset) for p in topic.partitions] == [(4, 3), (2, 1)]
    assert topic.messages_count == 6
    assert topic.size == sum(p.size for p in topic.partitions) > 0
    details = await client.get_stream(stream)
    assert (details.messages_count, details.size) == (6, topic.size)


async def test_confirmation_names_the_numeric_stream_and_topic(client, unique):
    stream = await new_topic(client, unique, "msg-confirm", partitions=2)
    stream_id = (await client.get_stream(stream)).id
    response = await client.send_messages(stream, TOPIC, 1, [SendMessage("x")])
    (confirmation,) = response.confirmations
    assert (confirmation.stream_id, confirmation.topic_id, confirmation.partition_id,
            confirmation.base_offset) == (stream_id, 0, 1, 0)


async def test_balanced_partitioning_is_round_robin(client, unique):
    stream = await new_topic(client, unique, "msg-balanced", partitions=3)
    chosen = []
    for i in range(7):
        response = await client.send_messages(stream, TOPIC, Partitioning.balanced(),
                                              [SendMessage(f"m{i}")])
        chosen.append(response.confirmations[0].partition_id)
    assert chosen == [0, 1, 2, 0, 1, 2, 0]
    in_0 = await poll(client, stream, PollingStrategy.First(), partition=0)
    assert payloads(in_0) == [b"m0", b"m3", b"m6"]


async def test_messages_key_picks_xxh32_of_the_key_modulo_partitions(client, unique):
    stream = await new_topic(client, unique, "msg-key", partitions=3)
    keys = ["k1", "k2", "abc", "order-17", "user-42", "zzz"]
    for key in keys:
        await client.send_messages(stream, TOPIC, Partitioning.messages_key(key),
                                   [SendMessage(key), SendMessage(key + "-again")])
    expected = {p: [] for p in range(3)}
    for key in keys:
        expected[xxhash.xxh32_intdigest(key.encode()) % 3] += [key, key + "-again"]
    assert sorted(len(v) for v in expected.values()) != [0, 0, 12]  # the keys do spread
    for partition, texts in expected.items():
        got = await poll(client, stream, PollingStrategy.First(), partition=partition)
        assert payloads(got) == [t.encode() for t in texts]


async def test_missing_partition_topic_or_stream_is_an_error(client, unique):
    """A send to anything missing is ResourceNotFound, as Iggy's partition plane answers;
    a poll names the missing partition."""
    stream = await new_topic(client, unique, "msg-missing", partitions=2)
    with pytest.raises(RuntimeError, match="Resource with key"):
        await client.send_messages(stream, TOPIC, 2, [SendMessage("x")])
    with pytest.raises(RuntimeError, match="Partition with ID"):
        await poll(client, stream, PollingStrategy.First(), partition=5)
    with pytest.raises(RuntimeError, match="Resource with key"):
        await client.send_messages(stream, "nope", 0, [SendMessage("x")])
    with pytest.raises(RuntimeError, match="Resource with key"):
        await client.send_messages(unique("msg-nostream"), TOPIC, 0, [SendMessage("x")])
    assert (await client.get_topic(stream, TOPIC)).messages_count == 0


# --- polling strategies -------------------------------------------------------------------


@pytest.fixture
async def ten_messages(client, unique) -> str:
    """Partition 0 holds m0..m9 at offsets 0..9, sent as batches of 4, 3 and 3."""
    stream = await new_topic(client, unique, "msg-poll")
    await send(client, stream, 0, [f"m{i}" for i in range(4)])
    await send(client, stream, 0, [f"m{i}" for i in range(4, 7)])
    await send(client, stream, 0, [f"m{i}" for i in range(7, 10)])
    return stream


@pytest.mark.parametrize("strategy, count, expected", [
    (PollingStrategy.Offset(3), 4, [3, 4, 5, 6]),
    (PollingStrategy.Offset(8), 5, [8, 9]),
    (PollingStrategy.Offset(10), 5, []),
    (PollingStrategy.Offset(0), 100, list(range(10))),
    (PollingStrategy.First(), 3, [0, 1, 2]),
    (PollingStrategy.Last(), 3, [7, 8, 9]),
    (PollingStrategy.Last(), 1, [9]),
    (PollingStrategy.Last(), 50, list(range(10))),
    (PollingStrategy.Next(), 4, [0, 1, 2, 3]),
    (PollingStrategy.Timestamp(0), 100, list(range(10))),
])
async def test_polling_strategies(client, ten_messages, strategy, count, expected):
    got = await poll(client, ten_messages, strategy, count=count)
    assert offsets(got) == expected
    assert payloads(got) == [f"m{i}".encode() for i in expected]


async def test_timestamp_strategy_matches_whole_batches_by_append_time(client, unique):
    stream = await new_topic(client, unique, "msg-timestamp")
    await send(client, stream, 0, ["a0", "a1", "a2"])
    await asyncio.sleep(0.01)
    await send(client, stream, 0, ["b0", "b1"])
    everything = await poll(client, stream, PollingStrategy.First())
    first_batch, second_batch = everything[:3], everything[3:]
    assert len({m.timestamp() for m in first_batch}) == 1  # one append time per batch
    appended_b = second_batch[0].timestamp()
    assert appended_b > first_batch[0].timestamp()

    got = await poll(client, stream, PollingStrategy.Timestamp(appended_b))
    assert payloads(got) == [b"b0", b"b1"]
    got = await poll(client, stream, PollingStrategy.Timestamp(first_batch[0].timestamp() + 1))
    assert payloads(got) == [b"b0", b"b1"]
    assert await poll(client, stream, PollingStrategy.Timestamp(appended_b + 1)) == []


async def test_poll_of_an_empty_partition_is_empty(client, unique):
    stream = await new_topic(client, unique, "msg-empty", partitions=2)
    for strategy in (PollingStrategy.First(), PollingStrategy.Last(), PollingStrategy.Next(),
                     PollingStrategy.Offset(0), PollingStrategy.Timestamp(0)):
        assert await poll(client, stream, strategy, partition=1) == []


# --- consumer offsets ---------------------------------------------------------------------


async def test_auto_commit_moves_next_for_that_consumer_only(client, ten_messages):
    stream = ten_messages
    first = await poll(client, stream, PollingStrategy.Next(), count=3, consumer="ac",
                       auto_commit=True)
    second = await poll(client, stream, PollingStrategy.Next(), count=3, consumer="ac",
                        auto_commit=True)
    assert (offsets(first), offsets(second)) == ([0, 1, 2], [3, 4, 5])
    other = await poll(client, stream, PollingStrategy.Next(), count=2, consumer="ac-other")
    assert offsets(other) == [0, 1]
    rest = await poll(client, stream, PollingStrategy.Next(), count=100, consumer="ac",
                      auto_commit=True)
    assert offsets(rest) == [6, 7, 8, 9]
    assert await poll(client, stream, PollingStrategy.Next(), consumer="ac") == []


async def test_polling_without_auto_commit_does_not_move_next(client, ten_messages):
    stream = ten_messages
    for _ in range(2):
        got = await poll(client, stream, PollingStrategy.Next(), count=2, consumer="noac")
        assert offsets(got) == [0, 1]


async def test_auto_commit_on_an_offset_poll_stores_the_last_returned(client, ten_messages):
    stream = ten_messages
    await poll(client, stream, PollingStrategy.Offset(5), count=2, consumer="jump",
               auto_commit=True)
    got = await poll(client, stream, PollingStrategy.Next(), count=2, consumer="jump")
    assert offsets(got) == [7, 8]


async def test_auto_commit_never_moves_the_offset_back(client, ten_messages):
    stream = ten_messages
    await poll(client, stream, PollingStrategy.Offset(0), count=8, consumer="mono",
               auto_commit=True)
    again = await poll(client, stream, PollingStrategy.Offset(2), count=2, consumer="mono",
                       auto_commit=True)
    assert offsets(again) == [2, 3]
    got = await poll(client, stream, PollingStrategy.Next(), consumer="mono")
    assert offsets(got) == [8, 9]


async def test_numeric_and_digit_string_consumer_ids_are_the_same_consumer(client, ten_messages):
    stream = ten_messages
    await client.poll_messages(stream, TOPIC, consumer=Consumer.Single(4242),
                               polling_strategy=PollingStrategy.Next(), count=4,
                               auto_commit=True, partition_id=0)
    got = await poll(client, stream, PollingStrategy.Next(), count=1, consumer="4242")
    assert offsets(got) == [4]


async def test_offsets_are_kept_per_partition(client, unique):
    stream = await new_topic(client, unique, "msg-per-partition", partitions=2)
    await send(client, stream, 0, ["a0", "a1", "a2"])
    await send(client, stream, 1, ["b0", "b1", "b2"])
    await poll(client, stream, PollingStrategy.Next(), count=2, partition=0, consumer="pp",
               auto_commit=True)
    in_1 = await poll(client, stream, PollingStrategy.Next(), partition=1, consumer="pp")
    in_0 = await poll(client, stream, PollingStrategy.Next(), partition=0, consumer="pp")
    assert (payloads(in_0), payloads(in_1)) == ([b"a2"], [b"b0", b"b1", b"b2"])


async def test_purge_clears_stored_offsets(client, ten_messages):
    stream = ten_messages
    await poll(client, stream, PollingStrategy.Next(), count=6, consumer="purged",
               auto_commit=True)
    await client.purge_topic(stream, TOPIC)
    assert await send(client, stream, 0, ["n0", "n1", "n2"]) == 0
    got = await poll(client, stream, PollingStrategy.Next(), consumer="purged")
    assert (offsets(got), payloads(got)) == ([0, 1, 2], [b"n0", b"n1", b"n2"])


# --- message contents ---------------------------------------------------------------------


async def test_user_headers_round_trip_with_their_types(client, unique):
    stream = await new_topic(client, unique, "msg-headers")
    plain = {"text": "hello", "raw": b"\x00\xff", "flag": True, "small": 7, "big": 70_000,
             "huge": 2**70, "negative": -1, "very-negative": -(2**40), "half": 2.5,
             "tenth": 0.1}
    typed = {HeaderKey.String("i64"): HeaderValue.Int64(5),
             HeaderKey.UnsignedInt32(9): HeaderValue.UnsignedInt16(65535),
             HeaderKey.String("f64"): HeaderValue.Float64(1.5),
             HeaderKey.Raw(b"k"): HeaderValue.Int128(-(2**100))}
    await client.send_messages(stream, TOPIC, 0, [SendMessage("plain", user_headers=plain),
                                                  SendMessage("typed", user_headers=typed),
                                                  SendMessage("none")])
    got_plain, got_typed, got_none = await poll(client, stream, PollingStrategy.First())

    headers = got_plain.user_headers()
    assert headers.to_scalar_dict() == plain
    assert headers[HeaderKey.String("text")] == HeaderValue.String("hello")
    assert headers[HeaderKey.String("raw")] == HeaderValue.Raw(b"\x00\xff")
    assert headers[HeaderKey.String("flag")] == HeaderValue.Bool(True)
    assert headers[HeaderKey.String("small")] == HeaderValue.UnsignedInt8(7)
    assert headers[HeaderKey.String("big")] == HeaderValue.UnsignedInt32(70_000)
    assert headers[HeaderKey.String("huge")] == HeaderValue.UnsignedInt128(2**70)
    assert headers[HeaderKey.String("negative")] == HeaderValue.Int8(-1)
    assert headers[HeaderKey.String("very-negative")] == HeaderValue.Int64(-(2**40))
    assert headers[HeaderKey.String("half")] == HeaderValue.Float32(2.5)
    assert headers[HeaderKey.String("tenth")] == HeaderValue.Float64(0.1)
    assert dict(got_typed.user_headers()) == typed
    assert got_none.user_headers() is None


async def test_payload_bytes_ids_and_timestamps_round_trip(client, unique):
    stream = await new_topic(client, unique, "msg-contents")
    every_byte = bytes(range(256))
    before = int(time.time() * 1_000_000)
    await client.send_messages(stream, TOPIC, 0, [SendMessage(every_byte, id=42),
                                                  SendMessage("ünïcode ✓", id=2**127 + 5),
                                                  SendMessage("random id")])
    after = int(time.time() * 1_000_000)
    binary, text, anonymous = await poll(client, stream, PollingStrategy.First())
    assert (binary.payload(), binary.id()) == (every_byte, 42)
    assert (text.payload(), text.id()) == ("ünïcode ✓".encode(), 2**127 + 5)
    assert anonymous.id() != 0
    assert binary.length() == 256
    for message in (binary, text, anonymous):
        assert before - 1_000_000 <= message.origin_timestamp() <= message.timestamp()
        assert message.timestamp() <= after + 1_000_000


async def test_a_batch_of_1000_messages(client, unique):
    stream = await new_topic(client, unique, "msg-large")
    texts = [f"message {i:04d} " + "x" * (i % 50) for i in range(1000)]
    assert await send(client, stream, 0, texts) == 0
    assert await send(client, stream, 0, ["after"]) == 1000
    got = await poll(client, stream, PollingStrategy.First(), count=1000)
    assert offsets(got) == list(range(1000))
    assert payloads(got) == [t.encode() for t in texts]
    tail = await poll(client, stream, PollingStrategy.Offset(998), count=10)
    assert payloads(tail) == [texts[998].encode(), texts[999].encode(), b"after"]


async def test_a_one_megabyte_payload(client, unique):
    stream = await new_topic(client, unique, "msg-big")
    payload = bytes(range(256)) * 4096
    await client.send_messages(stream, TOPIC, 0, [SendMessage(payload)])
    (got,) = await poll(client, stream, PollingStrategy.First())
    assert got.payload() == payload


# --- retention ----------------------------------------------------------------------------


@pytest.fixture
def quick_cleaner_sandbox(sandbox_only):
    """An in-memory sandbox whose cleaner runs every 0.2 s instead of every minute."""
    env = {**os.environ, "IGGY_ROOT_USERNAME": "iggy", "IGGY_ROOT_PASSWORD": "iggy"}
    with start_sandbox(extra_args=("--cleaner-interval", "0.2"), env=env) as process:
        yield process


async def test_expired_sealed_segments_are_deleted_and_the_active_one_kept(
        quick_cleaner_sandbox):
    client = await connect(quick_cleaner_sandbox.tcp_address, username="iggy",
                           password="iggy", announce=False)
    await client.create_stream("retention")
    await client.create_topic("retention", TOPIC, partitions_count=1, segment_size=1024 * 1024,
                              message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=1)))
    for batch in range(3):  # 3 x 10 x 40 kB: fills and seals the first 1 MiB segment
        await client.send_messages("retention", TOPIC, 0,
                                   [SendMessage(bytes([batch]) * 40_000) for _ in range(10)])
    await client.send_messages("retention", TOPIC, 0, [SendMessage("in the active segment")])
    assert (await client.get_topic("retention", TOPIC)).partitions[0].segments_count == 2

    for _ in range(100):  # 10 s at most
        if (await client.get_topic("retention", TOPIC)).messages_count == 1:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the expired segment was never deleted")
    (partition,) = (await client.get_topic("retention", TOPIC)).partitions
    assert (partition.segments_count, partition.current_offset) == (1, 30)
    kept = await poll(client, "retention", PollingStrategy.First())
    assert [(m.offset(), m.payload()) for m in kept] == [(30, b"in the active segment")]
    assert await send(client, "retention", 0, ["next"]) == 31
