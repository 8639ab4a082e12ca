"""Consumer groups through the real SDK: the low-level commands, partition assignment and
rebalancing as Iggy 0.9.0 defines them, and the high-level consumer and producer."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from datetime import timedelta

import pytest
from apache_iggy import (
    AutoCommit,
    AutoCommitWhen,
    Consumer,
    Partitioning,
    PollingStrategy,
    SendMessage,
)

TOPIC = "t"
GROUP = "g"
DEADLINE = 10.0  # seconds any wait in this file may take before the test fails
COMMIT_ON_POLL = AutoCommit.When(AutoCommitWhen.PollingMessages())


async def new_topic(client, unique, prefix: str, partitions: int = 3) -> str:
    stream = unique(prefix)
    await client.create_stream(stream)
    await client.create_topic(stream, TOPIC, partitions_count=partitions)
    return stream


async def members(client, stream, group=GROUP) -> list[list[int]]:
    """Each member's partitions, in member order."""
    details = await client.get_consumer_group(stream, TOPIC, group)
    return [sorted(m.partitions) for m in details.members]


async def wait_for_members(client, stream, expected, group=GROUP) -> None:
    """Wait (at most DEADLINE) until the group's members hold ``expected``."""
    current = None
    for _ in range(int(DEADLINE / 0.05)):
        current = await members(client, stream, group)
        if current == expected:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the members stayed {current}, expected {expected}")


async def consume(consumer, count: int) -> list[tuple[int, int, bytes]]:
    """Run a high-level consumer until it has handed over ``count`` messages (or fail after
    DEADLINE); returns (partition, offset, payload) of each."""
    got: list[tuple[int, int, bytes]] = []
    enough = asyncio.Event()

    async def keep(message) -> None:
        got.append((message.partition_id(), message.offset(), message.payload()))
        if len(got) >= count:
            enough.set()

    try:
        await asyncio.wait_for(consumer.consume_messages(keep, enough), DEADLINE)
    except TimeoutError:
        pytest.fail(f"the consumer got {len(got)} of {count} messages in {DEADLINE}s")
    return got


async def group_consumer(client, stream, group=GROUP):
    return await client.consumer_group(group, stream, TOPIC, batch_length=5,
                                       auto_commit=COMMIT_ON_POLL,
                                       poll_interval=timedelta(milliseconds=20))


async def send_round_robin(client, stream, count: int, prefix: str = "m") -> None:
    for i in range(count):
        await client.send_messages(stream, TOPIC, Partitioning.balanced(),
                                   [SendMessage(f"{prefix}{i}")])


# --- low level ----------------------------------------------------------------------------


async def test_create_get_list_and_delete_a_group(client, unique):
    stream = await new_topic(client, unique, "cg-crud")
    await client.create_consumer_group(stream, TOPIC, "first")
    await client.create_consumer_group(stream, TOPIC, "second")
    group = await client.get_consumer_group(stream, TOPIC, "first")
    assert (group.id, group.name, group.partitions_count, group.members_count) == (
        0, "first", 3, 0)
    assert group.members == []
    assert (await client.get_consumer_group(stream, TOPIC, 1)).name == "second"
    assert [(g.id, g.name) for g in await client.get_consumer_groups(stream, TOPIC)] == [
        (0, "first"), (1, "second")]

    await client.delete_consumer_group(stream, TOPIC, "first")
    assert await client.get_consumer_group(stream, TOPIC, "first") is None
    assert [g.name for g in await client.get_consumer_groups(stream, TOPIC)] == ["second"]


async def test_group_ids_are_never_reused(client, unique):
    stream = await new_topic(client, unique, "cg-ids")
    for name in ("a", "b"):
        await client.create_consumer_group(stream, TOPIC, name)
    await client.delete_consumer_group(stream, TOPIC, "b")
    await client.create_consumer_group(stream, TOPIC, "c")
    assert (await client.get_consumer_group(stream, TOPIC, "c")).id == 2


async def test_group_errors(client, unique):
    stream = await new_topic(client, unique, "cg-errors")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    with pytest.raises(RuntimeError, match="already exists"):
        await client.create_consumer_group(stream, TOPIC, GROUP)
    assert await client.get_consumer_group(stream, TOPIC, "nope") is None
    for change in (lambda: client.join_consumer_group(stream, TOPIC, "nope"),
                   lambda: client.delete_consumer_group(stream, TOPIC, "nope")):
        with pytest.raises(RuntimeError, match="was not found"):
            await change()
    with pytest.raises(RuntimeError, match="member .* was not found"):
        await client.leave_consumer_group(stream, TOPIC, GROUP)
    with pytest.raises(RuntimeError, match="was not found"):
        await client.create_consumer_group(stream, "no-topic", GROUP)


async def test_join_and_leave_move_partitions_between_members(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-assign")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    first, second, third = [await new_client() for _ in range(3)]

    await first.join_consumer_group(stream, TOPIC, GROUP)
    await first.join_consumer_group(stream, TOPIC, GROUP)  # joining twice changes nothing
    assert await members(client, stream) == [[0, 1, 2]]
    await second.join_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0, 1], [2]]
    await second.leave_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0, 1, 2]]

    await second.join_consumer_group(stream, TOPIC, GROUP)
    await third.join_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0], [2], [1]]  # the newcomer takes the excess
    await first.leave_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0, 2], [1]]  # eager round robin
    assert (await client.get_consumer_group(stream, TOPIC, GROUP)).members_count == 2


async def test_a_member_that_disconnects_loses_its_partitions(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-disconnect")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    staying, leaving = await new_client(), await new_client()
    await staying.join_consumer_group(stream, TOPIC, GROUP)
    await leaving.join_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0, 1], [2]]
    del leaving
    gc.collect()  # dropping the SDK client closes its connection
    await wait_for_members(client, stream, [[0, 1, 2]])


async def test_logout_ends_every_group_membership(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-logout")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    await client.create_consumer_group(stream, TOPIC, "other")
    member = await new_client()
    await member.join_consumer_group(stream, TOPIC, GROUP)
    await member.join_consumer_group(stream, TOPIC, "other")
    await member.logout_user()
    assert await members(client, stream) == []
    assert await members(client, stream, "other") == []


async def test_adding_and_removing_partitions_rebalances(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-partitions")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    first, second = await new_client(), await new_client()
    await first.join_consumer_group(stream, TOPIC, GROUP)
    await second.join_consumer_group(stream, TOPIC, GROUP)
    await client.create_partitions(stream, TOPIC, 2)
    assert await members(client, stream) == [[0, 2, 4], [1, 3]]
    group = await client.get_consumer_group(stream, TOPIC, GROUP)
    assert group.partitions_count == 5
    await client.delete_partitions(stream, TOPIC, 3)
    assert await members(client, stream) == [[0], [1]]


async def test_group_poll_reads_only_the_members_partitions(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-poll")
    await client.create_consumer_group(stream, TOPIC, GROUP)
    await send_round_robin(client, stream, 9)
    first, second = await new_client(), await new_client()
    await first.join_consumer_group(stream, TOPIC, GROUP)
    await second.join_consumer_group(stream, TOPIC, GROUP)

    seen: list[tuple[int, bytes]] = []
    for _ in range(3):  # one call per assigned partition, round robin, plus one more
        polled = await second.poll_messages(stream, TOPIC, consumer=Consumer.Group(GROUP),
                                            polling_strategy=PollingStrategy.Next(), count=10,
                                            auto_commit=True)
        seen += [(m.partition_id(), m.payload()) for m in polled]
    assert seen == [(2, b"m2"), (2, b"m5"), (2, b"m8")]


async def test_group_offsets_are_shared_by_the_members(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-offsets", partitions=1)
    await client.create_consumer_group(stream, TOPIC, GROUP)
    await client.send_messages(stream, TOPIC, 0, [SendMessage(f"m{i}") for i in range(6)])
    first, second = await new_client(), await new_client()
    await first.join_consumer_group(stream, TOPIC, GROUP)
    polled = await first.poll_messages(stream, TOPIC, consumer=Consumer.Group(GROUP),
                                       polling_strategy=PollingStrategy.Next(), count=4,
                                       auto_commit=True)
    assert [m.offset() for m in polled] == [0, 1, 2, 3]
    await first.leave_consumer_group(stream, TOPIC, GROUP)
    await second.join_consumer_group(stream, TOPIC, GROUP)
    polled = await second.poll_messages(stream, TOPIC, consumer=Consumer.Group(GROUP),
                                        polling_strategy=PollingStrategy.Next(), count=10,
                                        auto_commit=True)
    assert [m.offset() for m in polled] == [4, 5]


# --- high level ---------------------------------------------------------------------------


async def test_high_level_consumer_reads_every_message_once(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-consume")
    await send_round_robin(client, stream, 30)
    consumer_client = await new_client()
    consumer = await group_consumer(consumer_client, stream)
    assert (await client.get_consumer_group(stream, TOPIC, GROUP)).members_count == 1

    got = await consume(consumer, 30)
    assert len(got) == 30
    assert sorted(payload for _, _, payload in got) == sorted(
        f"m{i}".encode() for i in range(30))
    assert Counter(partition for partition, _, _ in got) == {0: 10, 1: 10, 2: 10}
    await send_round_robin(client, stream, 3, prefix="late")
    late = await consume(consumer, 3)
    assert sorted(payload for _, _, payload in late) == [b"late0", b"late1", b"late2"]


async def test_high_level_consumers_rebalance_on_join_and_leave(client, unique, new_client):
    stream = await new_topic(client, unique, "cg-rebalance")
    first_client = await new_client()  # keep a reference: its heartbeat re-syncs the group
    first = await group_consumer(first_client, stream)
    assert await members(client, stream) == [[0, 1, 2]]
    second_client = await new_client()
    second = await group_consumer(second_client, stream)
    assert await members(client, stream) == [[0, 1], [2]]

    await send_round_robin(client, stream, 30)
    got_first, got_second = await asyncio.gather(consume(first, 20), consume(second, 10))
    assert {p for p, _, _ in got_first} == {0, 1}
    assert {p for p, _, _ in got_second} == {2}
    everything = [payload for _, _, payload in got_first + got_second]
    assert sorted(everything) == sorted(f"m{i}".encode() for i in range(30))

    await second_client.leave_consumer_group(stream, TOPIC, GROUP)
    assert await members(client, stream) == [[0, 1, 2]]
    await client.send_messages(stream, TOPIC, 2, [SendMessage(f"after{i}") for i in range(3)])
    taken_over = await consume(first, 3)
    assert [(p, payload) for p, _, payload in taken_over] == [
        (2, b"after0"), (2, b"after1"), (2, b"after2")]


async def test_high_level_consumer_takes_over_when_a_member_disconnects(client, unique,
                                                                         new_client):
    stream = await new_topic(client, unique, "cg-takeover", partitions=2)
    first_client = await new_client()
    first = await group_consumer(first_client, stream)
    second_client = await new_client()
    second = await group_consumer(second_client, stream)
    assert await members(client, stream) == [[0], [1]]
    del second, second_client
    gc.collect()
    await wait_for_members(client, stream, [[0, 1]])
    await send_round_robin(client, stream, 4)
    got = await consume(first, 4)
    assert sorted((p, payload) for p, _, payload in got) == [
        (0, b"m0"), (0, b"m2"), (1, b"m1"), (1, b"m3")]


async def test_high_level_producer_creates_the_topic_and_sends(client, unique):
    stream = unique("cg-producer")
    producer = await client.producer(stream, TOPIC, topic_partitions_count=2)
    async with producer:
        batch = await producer.send([SendMessage("a"), SendMessage("b")])
        one = await producer.send_one(SendMessage("c"))
        chosen = await producer.send_with_partitioning([SendMessage("d")],
                                                       Partitioning.partition_id(1))
    topic = await client.get_topic(stream, TOPIC)
    assert topic.partitions_count == 2
    assert [(c.partition_id, c.base_offset) for c in batch.confirmations] == [(0, 0)]
    assert [(c.partition_id, c.base_offset) for c in one.confirmations] == [(1, 0)]
    assert [(c.partition_id, c.base_offset) for c in chosen.confirmations] == [(1, 1)]
    contents = {}
    for partition in (0, 1):
        polled = await client.poll_messages(stream, TOPIC, consumer=Consumer.Single("check"),
                                            polling_strategy=PollingStrategy.First(),
                                            count=10, auto_commit=False,
                                            partition_id=partition)
        contents[partition] = [m.payload() for m in polled]
    assert contents == {0: [b"a", b"b"], 1: [b"c", b"d"]}


async def test_high_level_producer_into_an_existing_topic(client, unique):
    stream = await new_topic(client, unique, "cg-producer-existing", partitions=3)
    producer = await client.producer(stream, TOPIC, partitioning=Partitioning.partition_id(2),
                                     create_stream_if_not_exists=False,
                                     create_topic_if_not_exists=False)
    async with producer:
        for i in range(5):
            await producer.send_one(SendMessage(f"p{i}"))
    topic = await client.get_topic(stream, TOPIC)
    assert [p.messages_count for p in topic.partitions] == [0, 0, 5]
