"""Streams, topics and partitions through the real SDK, as Iggy 0.9.0 defines them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apache_iggy import (
    Consumer,
    HeaderKey,
    HeaderValue,
    IggyExpiry,
    MaxTopicSize,
    PollingStrategy,
    SendMessage,
)

from coursekit.settings import get_settings
from helpers.connection import connect

READER = Consumer.Single("st-reader")
MIB = 1024 * 1024


async def partition_ids(client, stream, topic) -> list[int]:
    details = await client.get_topic(stream, topic)
    return [p.id for p in details.partitions]


# --- streams ------------------------------------------------------------------------------


async def test_create_get_and_list_a_stream(client, unique):
    name = unique("st-create")
    await client.create_stream(name)
    by_name = await client.get_stream(name)
    assert by_name.name == name
    assert (by_name.topics_count, by_name.messages_count, by_name.size) == (0, 0, 0)
    assert by_name.topics == []
    by_id = await client.get_stream(by_name.id)
    assert (by_id.id, by_id.name, by_id.created_at) == (by_name.id, name, by_name.created_at)
    listed = {s.name: s for s in await client.get_streams()}
    assert listed[name].id == by_name.id


async def test_first_stream_and_topic_of_an_empty_server_have_id_zero(sandbox_only,
                                                                      fresh_sandbox):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    await client.create_stream("first")
    await client.create_stream("second")
    await client.create_topic("second", "t", partitions_count=2)
    assert [(s.id, s.name) for s in await client.get_streams()] == [(0, "first"),
                                                                    (1, "second")]
    topic = await client.get_topic(1, 0)
    assert (topic.id, topic.name) == (0, "t")
    assert [p.id for p in topic.partitions] == [0, 1]
    root = await client.get_user(get_settings().username)
    assert root.id == 0


async def test_deleted_stream_ids_are_reused_lowest_first(client, unique):
    a, b, c, d, e = (unique("st-reuse") for _ in range(5))
    for name in (a, b, c):
        await client.create_stream(name)
    ids = {name: (await client.get_stream(name)).id for name in (a, b, c)}
    assert ids[a] < ids[b] < ids[c]
    await client.delete_stream(b)
    await client.create_stream(d)
    assert (await client.get_stream(d)).id == ids[b]
    await client.delete_stream(a)
    await client.delete_stream(d)
    await client.create_stream(e)
    assert (await client.get_stream(e)).id == ids[a]


async def test_duplicate_stream_name_is_refused(client, unique):
    name = unique("st-dup")
    await client.create_stream(name)
    with pytest.raises(RuntimeError, match="already exists"):
        await client.create_stream(name)
    assert [s.name for s in await client.get_streams()].count(name) == 1


async def test_missing_stream_reads_as_none_and_changes_fail(client, unique):
    missing = unique("st-missing")
    assert await client.get_stream(missing) is None
    assert await client.get_stream(999_999) is None
    changes = (lambda: client.delete_stream(missing),
               lambda: client.update_stream(missing, "x"),
               lambda: client.purge_stream(missing),
               lambda: client.create_topic(missing, "t", partitions_count=1))
    for change in changes:
        with pytest.raises(RuntimeError, match="was not found"):
            await change()
    assert await client.get_topics(missing) == []  # Iggy lists a missing stream as empty


async def test_rename_a_stream(client, unique):
    old, new, taken = unique("st-old"), unique("st-new"), unique("st-taken")
    await client.create_stream(old)
    await client.create_stream(taken)
    stream_id = (await client.get_stream(old)).id
    await client.update_stream(old, new)
    assert await client.get_stream(old) is None
    assert (await client.get_stream(new)).id == stream_id
    with pytest.raises(RuntimeError, match="already exists"):
        await client.update_stream(new, taken)
    await client.update_stream(new, new)  # its own name is not taken
    assert (await client.get_stream(stream_id)).name == new


async def test_delete_stream_removes_its_topics(client, unique):
    name = unique("st-delete")
    await client.create_stream(name)
    await client.create_topic(name, "t", partitions_count=1)
    await client.send_messages(name, "t", 0, [SendMessage("gone")])
    await client.delete_stream(name)
    assert await client.get_stream(name) is None
    assert await client.get_topic(name, "t") is None
    assert name not in [s.name for s in await client.get_streams()]


async def test_purge_stream_empties_every_topic_but_keeps_them(client, unique):
    name = unique("st-purge")
    await client.create_stream(name)
    await client.create_topic(name, "a", partitions_count=2)
    await client.create_topic(name, "b", partitions_count=1)
    for topic in ("a", "b"):
        await client.send_messages(name, topic, 0, [SendMessage("x"), SendMessage("y")])
    assert (await client.get_stream(name)).messages_count == 4
    await client.purge_stream(name)
    stream = await client.get_stream(name)
    assert (stream.messages_count, stream.topics_count) == (0, 2)
    assert await partition_ids(client, name, "a") == [0, 1]
    response = await client.send_messages(name, "a", 0, [SendMessage("again")])
    assert response.confirmations[0].base_offset == 0


# --- topics -------------------------------------------------------------------------------


async def test_topic_ids_start_at_zero_per_stream_and_are_reused(client, unique):
    stream = unique("st-topic-ids")
    await client.create_stream(stream)
    for name in ("t0", "t1", "t2"):
        await client.create_topic(stream, name, partitions_count=1)
    assert [(t.id, t.name) for t in await client.get_topics(stream)] == [
        (0, "t0"), (1, "t1"), (2, "t2")]
    await client.delete_topic(stream, "t1")
    await client.create_topic(stream, "t3", partitions_count=1)
    assert (await client.get_topic(stream, "t3")).id == 1
    assert (await client.get_stream(stream)).topics_count == 3


async def test_topic_settings_are_visible_in_get_topic(client, unique):
    stream = unique("st-settings")
    await client.create_stream(stream)
    await client.create_topic(
        stream, "t", partitions_count=3, compression_algorithm="gzip",
        message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=90)),
        max_topic_size=MaxTopicSize.Custom(5_000_000), segment_size=2 * MIB,
    )
    topic = await client.get_topic(stream, "t")
    assert topic.partitions_count == 3
    assert [p.id for p in topic.partitions] == [0, 1, 2]
    assert topic.compression_algorithm == "gzip"
    assert isinstance(topic.message_expiry, IggyExpiry.ExpireDuration)
    assert topic.message_expiry.duration == timedelta(seconds=90)
    assert isinstance(topic.max_topic_size, MaxTopicSize.Custom)
    assert topic.max_topic_size.bytes == 5_000_000
    assert topic.options[HeaderKey.String("segment_size")] == HeaderValue.UnsignedInt64(2 * MIB)
    assert topic.options[HeaderKey.String("compression_algorithm")] == HeaderValue.String("gzip")
    assert (topic.messages_count, topic.size) == (0, 0)
    assert [(p.messages_count, p.current_offset, p.segments_count)
            for p in topic.partitions] == [(0, 0, 1)] * 3


async def test_topic_defaults(client, unique):
    stream = unique("st-defaults")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=1)
    topic = await client.get_topic(stream, "t")
    assert topic.compression_algorithm == "none"
    assert isinstance(topic.message_expiry, IggyExpiry.NeverExpire)
    assert HeaderKey.String("segment_size") not in topic.options
    assert (topic.options | topic.derived_options)[HeaderKey.String("durability")] == \
        HeaderValue.String("replicated")


async def test_duplicate_topic_name_is_refused_within_a_stream_only(client, unique):
    first, second = unique("st-tdup"), unique("st-tdup")
    await client.create_stream(first)
    await client.create_stream(second)
    await client.create_topic(first, "orders", partitions_count=1)
    with pytest.raises(RuntimeError, match="already exists"):
        await client.create_topic(first, "orders", partitions_count=2)
    await client.create_topic(second, "orders", partitions_count=2)
    assert (await client.get_topic(first, "orders")).partitions_count == 1
    assert (await client.get_topic(second, "orders")).partitions_count == 2


async def test_missing_topic_reads_as_none_and_changes_fail(client, unique):
    stream = unique("st-tmissing")
    await client.create_stream(stream)
    assert await client.get_topic(stream, "nope") is None
    assert await client.get_topic(stream, 7) is None
    changes = (lambda: client.delete_topic(stream, "nope"),
               lambda: client.purge_topic(stream, "nope"),
               lambda: client.update_topic(stream, "nope", "x"),
               lambda: client.create_partitions(stream, "nope", 1))
    for change in changes:
        with pytest.raises(RuntimeError, match="was not found"):
            await change()


async def test_update_topic_renames_and_patches_settings(client, unique):
    stream = unique("st-tupdate")
    await client.create_stream(stream)
    await client.create_topic(stream, "old", partitions_count=2, compression_algorithm="gzip")
    await client.update_topic(stream, "old", "new",
                              message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=5)))
    assert await client.get_topic(stream, "old") is None
    topic = await client.get_topic(stream, "new")
    assert topic.message_expiry.duration == timedelta(seconds=5)
    assert topic.compression_algorithm == "gzip"  # not sent, so unchanged
    assert topic.partitions_count == 2


async def test_unknown_topic_option_is_refused(client, unique):
    stream = unique("st-option")
    await client.create_stream(stream)
    with pytest.raises(RuntimeError, match="Unsupported option key"):
        await client.create_topic(stream, "t", partitions_count=1, options={"no_such": "1"})
    assert await client.get_topic(stream, "t") is None


@pytest.mark.parametrize("segment_size", [MIB - 512, MIB + 100, 1024 * MIB + 512])
async def test_segment_size_out_of_bounds_is_refused(client, unique, segment_size):
    # 1 MiB ..= 1 GiB, in whole 512-byte blocks
    stream = unique("st-segment")
    await client.create_stream(stream)
    with pytest.raises(RuntimeError, match="Invalid option value"):
        await client.create_topic(stream, "t", partitions_count=1, segment_size=segment_size)
    assert await client.get_topic(stream, "t") is None


async def test_max_topic_size_below_one_segment_is_refused(client, unique):
    stream = unique("st-cap")
    await client.create_stream(stream)
    with pytest.raises(RuntimeError, match="Max topic size cannot be lower than segment size"):
        await client.create_topic(stream, "t", partitions_count=1, segment_size=4 * MIB,
                                  max_topic_size=MaxTopicSize.Custom(2 * MIB))
    assert await client.get_topic(stream, "t") is None


async def test_partitions_count_above_1000_is_refused(client, unique):
    stream = unique("st-toomany")
    await client.create_stream(stream)
    with pytest.raises(RuntimeError, match="Too many partitions"):
        await client.create_topic(stream, "t", partitions_count=1001)
    assert await client.get_topic(stream, "t") is None


async def test_delete_topic_and_purge_topic(client, unique):
    stream = unique("st-tdelete")
    await client.create_stream(stream)
    await client.create_topic(stream, "keep", partitions_count=1)
    await client.create_topic(stream, "drop", partitions_count=1)
    await client.send_messages(stream, "keep", 0, [SendMessage(f"m{i}") for i in range(5)])
    await client.purge_topic(stream, "keep")
    topic = await client.get_topic(stream, "keep")
    assert (topic.messages_count, topic.partitions[0].current_offset) == (0, 0)
    polled = await client.poll_messages(stream, "keep", consumer=READER,
                                        polling_strategy=PollingStrategy.First(), count=10,
                                        auto_commit=False, partition_id=0)
    assert polled == []
    await client.delete_topic(stream, "drop")
    assert [t.name for t in await client.get_topics(stream)] == ["keep"]
    with pytest.raises(RuntimeError, match="was not found"):
        await client.delete_topic(stream, "drop")


# --- partitions ---------------------------------------------------------------------------


async def test_create_and_delete_partitions(client, unique):
    stream = unique("st-partitions")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=3)
    await client.send_messages(stream, "t", 1, [SendMessage("stays")])
    await client.create_partitions(stream, "t", 2)
    assert await partition_ids(client, stream, "t") == [0, 1, 2, 3, 4]
    assert (await client.get_topic(stream, "t")).partitions_count == 5
    await client.send_messages(stream, "t", 4, [SendMessage("new partition")])

    await client.delete_partitions(stream, "t", 3)
    assert await partition_ids(client, stream, "t") == [0, 1]
    with pytest.raises(RuntimeError, match="was not found"):
        await client.send_messages(stream, "t", 4, [SendMessage("no longer there")])
    polled = await client.poll_messages(stream, "t", consumer=READER,
                                        polling_strategy=PollingStrategy.First(), count=10,
                                        auto_commit=False, partition_id=1)
    assert [m.payload() for m in polled] == [b"stays"]


async def test_a_partition_deleted_and_created_again_starts_empty(client, unique):
    stream = unique("st-prebirth")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=2)
    await client.send_messages(stream, "t", 1, [SendMessage("old")] * 3)
    await client.delete_partitions(stream, "t", 1)
    await client.create_partitions(stream, "t", 1)
    assert await partition_ids(client, stream, "t") == [0, 1]
    polled = await client.poll_messages(stream, "t", consumer=READER,
                                        polling_strategy=PollingStrategy.First(), count=10,
                                        auto_commit=False, partition_id=1)
    assert polled == []
    response = await client.send_messages(stream, "t", 1, [SendMessage("new")])
    assert response.confirmations[0].base_offset == 0


async def test_deleting_more_partitions_than_exist_is_refused(client, unique):
    stream = unique("st-pdelete")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=2)
    with pytest.raises(RuntimeError, match="Invalid partitions count"):
        await client.delete_partitions(stream, "t", 3)
    assert await partition_ids(client, stream, "t") == [0, 1]
