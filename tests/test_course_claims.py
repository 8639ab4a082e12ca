"""What the notebooks and docs state about Iggy, checked against the session's server.

Each test pins one sentence a learner reads (the notebook or doc is named in its
docstring), so ``make test-real`` checks the sentence on Apache Iggy and ``make test`` keeps
the sandbox saying the same.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time

import pytest
import xxhash
from apache_iggy import Consumer, PollingStrategy, SendMessage

from helpers import http_get, http_request, store_offset
from helpers.http import HttpApiError
from tests.wire_session import identifier

SEND_MESSAGES = 101  # command code
REBALANCING_TIMEOUT = 30.0  # seconds: Apache Iggy's consumer_group.rebalancing_timeout


async def topic_with_messages(client, unique, partitions: int = 1, **settings) -> str:
    stream = unique("claims")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=partitions, **settings)
    return stream


async def first_messages(client, stream: str, partition: int = 0, count: int = 10):
    return await client.poll_messages(
        stream, "t", partition_id=partition, consumer=Consumer.Single("claims"),
        polling_strategy=PollingStrategy.First(), count=count, auto_commit=False)


def send_body_with_id(stream: str, message_id: int, payload: bytes) -> bytes:
    """A SendMessages body for partition 0 with one message and the given id, built by
    hand: the SDK's typed send never puts an id of 0 on the wire."""
    rest = message_id.to_bytes(16, "little") + struct.pack("<IIIIQ", 0, 0, 0, len(payload), 0)
    checksum = struct.pack("<Q", xxhash.xxh3_64_intdigest(rest + payload))
    length = 256 + len(checksum + rest + payload)
    digest = xxhash.xxh3_64(struct.pack("<QQQQQI", 0, 0, 0, 0, length, 1) + checksum)
    header = struct.pack("<QQQQQQI", 0, 0, 0, 0, length, digest.intdigest(), 1).ljust(256, b"\0")
    metadata = identifier(stream) + identifier("t") + b"\x02\x04" + struct.pack("<I", 0)
    return (struct.pack("<I", len(metadata) + 4) + metadata + struct.pack("<I", 1)
            + header + checksum + rest + payload)


async def test_compression_is_stored_and_reported_but_not_applied(client, unique):
    """02, concepts doc: a gzip topic reports gzip and takes the bytes a plain one takes."""
    stream = await topic_with_messages(client, unique)
    await client.create_topic(stream, "gz", partitions_count=1, compression_algorithm="gzip")
    payload = "a" * 10_000  # as compressible as text gets
    for topic in ("t", "gz"):
        await client.send_messages(stream, topic, 0, [SendMessage(payload) for _ in range(50)])
    plain, gzip = [await client.get_topic(stream, topic) for topic in ("t", "gz")]
    assert (plain.compression_algorithm, gzip.compression_algorithm) == ("none", "gzip")
    assert gzip.size == plain.size > 50 * 10_000


async def test_message_id_zero_is_replaced_by_the_sdk_over_tcp_and_the_server_over_http(
    client, unique
):
    """Concepts doc, 08: the server keeps a 0 that reaches it over TCP; the SDK replaces 0
    before sending; over HTTP the server replaces it. A non-zero id is kept everywhere."""
    stream = await topic_with_messages(client, unique)
    await client.send_binary_request(SEND_MESSAGES, send_body_with_id(stream, 0, b"raw"))
    await client.send_messages(stream, "t", 0, [SendMessage("sdk")])
    as_base64 = {"kind": "partition_id", "value": base64.b64encode(bytes(4)).decode()}
    http_request("POST", f"/streams/{stream}/topics/t/messages", json={
        "partitioning": as_base64,
        "messages": [{"id": 0, "payload": base64.b64encode(b"http").decode()},
                     {"id": 42, "payload": base64.b64encode(b"kept").decode()}]})
    ids = {bytes(m.payload()): m.id() for m in await first_messages(client, stream)}
    assert ids[b"raw"] == 0 and ids[b"kept"] == 42
    assert ids[b"sdk"] != 0 and ids[b"http"] != 0


async def test_http_consumer_id_takes_a_name_the_same_consumer_as_over_tcp(client, unique):
    """08, README: ``consumer_id=ana`` is ``Consumer.Single("ana")``."""
    stream = await topic_with_messages(client, unique)
    await client.send_messages(stream, "t", 0, [SendMessage(f"m{i}") for i in range(6)])
    await client.poll_messages(stream, "t", partition_id=0, consumer=Consumer.Single("ana"),
                               polling_strategy=PollingStrategy.Next(), count=3,
                               auto_commit=True)
    query = "consumer_id=ana&partition_id=0"
    assert http_get(f"/streams/{stream}/topics/t/consumer-offsets?{query}")["stored_offset"] == 2
    polled = http_get(f"/streams/{stream}/topics/t/messages?{query}&kind=next&count=2"
                      "&auto_commit=true")
    assert [m["header"]["offset"] for m in polled["messages"]] == [3, 4]
    again = await client.poll_messages(stream, "t", partition_id=0,
                                       consumer=Consumer.Single("ana"),
                                       polling_strategy=PollingStrategy.Next(), count=3,
                                       auto_commit=True)
    assert [m.offset() for m in again] == [5]


async def test_partitions_have_post_and_delete_routes_but_no_get(client, unique):
    """08, README: ``GET .../partitions`` is 405; POST and DELETE add and remove."""
    stream = await topic_with_messages(client, unique)
    path = f"/streams/{stream}/topics/t/partitions"
    with pytest.raises(HttpApiError) as refused:
        http_get(path)
    assert refused.value.status == 405
    http_request("POST", path, json={"partitions_count": 2})
    assert (await client.get_topic(stream, "t")).partitions_count == 3
    http_request("DELETE", f"{path}?partitions_count=1")
    assert (await client.get_topic(stream, "t")).partitions_count == 2


async def polled_without_commit(member, stream: str, partition: int) -> list[int]:
    messages = await member.poll_messages(
        stream, "t", partition_id=partition, consumer=Consumer.Group("g"),
        polling_strategy=PollingStrategy.Next(), count=3, auto_commit=False)
    return [m.offset() for m in messages]


async def owners_after_a_join_with_one_partition_in_flight(client, unique, new_client):
    """Two partitions, member A owns both and polls 3 messages of partition 1 without
    committing, member B joins. Returns (stream, A, B, the group's owners right away)."""
    stream = await topic_with_messages(client, unique, partitions=2)
    for partition in (0, 1):
        await client.send_messages(stream, "t", partition,
                                   [SendMessage(f"p{partition}-{i}") for i in range(5)])
    await client.create_consumer_group(stream, "t", "g")
    first, second = await new_client(), await new_client()
    await first.join_consumer_group(stream, "t", "g")
    assert await polled_without_commit(first, stream, 1) == [0, 1, 2]
    await second.join_consumer_group(stream, "t", "g")
    group = await client.get_consumer_group(stream, "t", "g")
    return stream, first, second, [sorted(m.partitions) for m in group.members]


async def wait_until_both_own_one(client, stream: str, deadline: float) -> float:
    """Seconds until each member owns one partition; fails after ``deadline``."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        group = await client.get_consumer_group(stream, "t", "g")
        if sorted(len(m.partitions) for m in group.members) == [1, 1]:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    pytest.fail(f"partition 1 did not move within {deadline} s")


async def group_reads(member, stream: str, partition: int) -> list[int]:
    """What ``member`` gets from ``partition`` once its SDK has synced the assignment."""
    for _ in range(50):
        messages = await member.poll_messages(
            stream, "t", partition_id=partition, consumer=Consumer.Group("g"),
            polling_strategy=PollingStrategy.Next(), count=10, auto_commit=True)
        if messages:
            return [m.offset() for m in messages]
        await asyncio.sleep(0.2)
    return []


async def test_a_joining_member_waits_for_the_commit_of_an_in_flight_partition(
    client, unique, new_client
):
    """05, concepts doc: a polled, uncommitted partition stays with its owner, which is no
    longer served it, until that owner commits; the new owner continues after the commit."""
    stream, first, second, owners = await owners_after_a_join_with_one_partition_in_flight(
        client, unique, new_client)
    assert owners == [[0, 1], []]
    assert await polled_without_commit(first, stream, 1) == []
    await store_offset(first, stream, "t", 2, Consumer.Group("g"), partition_id=1)
    assert await wait_until_both_own_one(client, stream, REBALANCING_TIMEOUT / 2) < 10
    assert await group_reads(second, stream, 1) == [3, 4]


@pytest.mark.slow
async def test_an_uncommitted_partition_moves_after_the_rebalancing_timeout_and_is_read_again(
    client, unique, new_client
):
    """05, concepts doc: without the commit the partition moves after 30 s, and the new
    owner reads the uncommitted batch again."""
    stream, _, second, owners = await owners_after_a_join_with_one_partition_in_flight(
        client, unique, new_client)
    assert owners == [[0, 1], []]
    waited = await wait_until_both_own_one(client, stream, REBALANCING_TIMEOUT + 15)
    assert waited > REBALANCING_TIMEOUT - 5
    assert await group_reads(second, stream, 1) == [0, 1, 2, 3, 4]
