"""Sending and polling (notebooks 01, 03, 04, 08): partitioning, every polling strategy,
message ids, user headers, and the same over HTTP."""

from __future__ import annotations

import base64
import struct

from apache_iggy import Consumer, Partitioning, PollingStrategy, SendMessage

from tests.http_json import topic_body
from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

STREAM, TOPIC = "parity-messages", "events"


def _messages(first: int, count: int, prefix: str = "event") -> list[SendMessage]:
    return [SendMessage(f"{prefix}-{n}", id=n + 1) for n in range(first, first + count)]


@scenario
async def messages_over_tcp(s: Session) -> None:
    client = await s.connect()
    await s.sdk("create a stream", client.create_stream, STREAM)
    await s.sdk_raw("create a topic with three partitions", client, commands.CREATE_TOPIC,
                    commands.create_topic(STREAM, TOPIC, 3), commands.created)
    await s.sdk("send five to partition 0", client.send_messages, STREAM, TOPIC,
                Partitioning.partition_id(0), _messages(0, 5))
    await s.sdk("send three more to partition 0", client.send_messages, STREAM, TOPIC, 0,
                _messages(5, 3))
    await s.sdk("send balanced (round robin over partitions)", client.send_messages, STREAM,
                TOPIC, Partitioning.balanced(), _messages(100, 1, "rr"))
    await s.sdk("send balanced again", client.send_messages, STREAM, TOPIC,
                Partitioning.balanced(), _messages(101, 1, "rr"))
    await s.sdk("send with a key", client.send_messages, STREAM, TOPIC,
                Partitioning.messages_key("customer-42"), _messages(200, 2, "key"))
    await s.sdk("send with the same key again", client.send_messages, STREAM, TOPIC,
                Partitioning.messages_key("customer-42"), _messages(202, 1, "key"))
    await s.sdk("send with user headers", client.send_messages, STREAM, TOPIC, 1, [
        SendMessage("with headers", id=300,
                    user_headers={"source": "parity", "attempt": 2, "ok": True})])
    await s.sdk("send with id 0 (the SDK gives it one)", client.send_messages, STREAM, TOPIC,
                2, [SendMessage("no id", id=0)])
    await s.sdk("send to a missing partition", client.send_messages, STREAM, TOPIC, 7,
                _messages(0, 1))
    await s.sdk("send to a missing topic", client.send_messages, STREAM, "missing", 0,
                _messages(0, 1))
    await s.sdk("send to a missing stream", client.send_messages, "parity-missing", TOPIC, 0,
                _messages(0, 1))
    await s.sdk_raw("send a batch whose head does not decode", client, commands.SEND_MESSAGES,
                    commands.UNDECODABLE_SEND_HEAD)
    await s.sdk("send no messages", client.send_messages, STREAM, TOPIC, 0, [])

    reader = Consumer.Single("parity-reader")

    async def poll(step: str, strategy: PollingStrategy, count: int = 10, *,
                   partition: int | None = 0, consumer: Consumer = reader,
                   auto_commit: bool = False, vary: tuple[str, ...] = ()) -> list:
        return await s.sdk(step, client.poll_messages, STREAM, TOPIC, consumer=consumer,
                           polling_strategy=strategy, count=count, auto_commit=auto_commit,
                           partition_id=partition, vary=vary)

    await poll("poll first three", PollingStrategy.First(), 3)
    await poll("poll last two", PollingStrategy.Last(), 2)
    await poll("poll from offset 4", PollingStrategy.Offset(4), 3)
    await poll("poll from an offset past the end", PollingStrategy.Offset(50), 3)
    await poll("poll next without a stored offset", PollingStrategy.Next(), 2)
    await poll("poll next with auto commit", PollingStrategy.Next(), 3, auto_commit=True)
    await poll("poll next continues after the commit", PollingStrategy.Next(), 3,
               auto_commit=True)
    await poll("poll next again: the rest", PollingStrategy.Next(), 10, auto_commit=True)
    await poll("poll next at the end", PollingStrategy.Next(), 10, auto_commit=True)
    found = await poll("poll first of partition 1", PollingStrategy.First(), 10, partition=1)
    if found:
        await poll("poll by the timestamp of a message", PollingStrategy.Timestamp(
            found[-1].timestamp()), 10, partition=1)
    await poll("poll by a timestamp in the future", PollingStrategy.Timestamp(
        4_000_000_000_000_000), 10, partition=1)
    await poll("poll by timestamp 0", PollingStrategy.Timestamp(0), 2, partition=1)
    await poll("poll the message sent with id 0", PollingStrategy.First(), 1, partition=2,
               vary=("result.*.id",))
    await poll("poll without a partition (partition 0)", PollingStrategy.First(), 1,
               partition=None)
    await poll("poll a missing partition", PollingStrategy.First(), 1, partition=9)
    await poll("poll zero messages", PollingStrategy.First(), 0)
    await s.sdk("poll a missing topic", client.poll_messages, STREAM, "missing",
                consumer=reader, polling_strategy=PollingStrategy.First(), count=1,
                auto_commit=False, partition_id=0)
    await poll("a numeric consumer id has its own offsets", PollingStrategy.Next(), 2,
               consumer=Consumer.Single(7), auto_commit=True)
    await s.sdk("the topic counts its messages", client.get_topic, STREAM, TOPIC)
    await s.sdk("purge the topic", client.purge_topic, STREAM, TOPIC)
    await poll("poll first after the purge", PollingStrategy.First(), 10)
    await s.sdk("send after the purge", client.send_messages, STREAM, TOPIC, 0,
                _messages(0, 2, "after"))
    await poll("offsets go on after a purge", PollingStrategy.First(), 10)
    await s.sdk("delete the stream", client.delete_stream, STREAM)


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


@scenario
async def messages_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    await s.http("create a topic", "POST", f"/streams/{STREAM}/topics",
                 json_body=topic_body(TOPIC, 2), token=token)
    url = f"/streams/{STREAM}/topics/{TOPIC}/messages"
    to_partition_1 = {"kind": "partition_id", "value": _b64(struct.pack("<I", 1))}
    await s.http("send two messages to partition 1", "POST", url, json_body={
        "partitioning": to_partition_1,
        "messages": [{"id": 11, "payload": _b64("first")},
                     {"id": 12, "payload": _b64("second"), "user_headers": [
                         {"key": {"kind": "string", "value": _b64("source")},
                          "value": {"kind": "string", "value": _b64("http")}}]}]},
        token=token)
    await s.http("send with id 0 (the server gives it one)", "POST", url, json_body={
        "partitioning": to_partition_1, "messages": [{"id": 0, "payload": _b64("third")}]},
        token=token)
    await s.http("send balanced", "POST", url, json_body={
        "partitioning": {"kind": "balanced", "value": ""},
        "messages": [{"id": 21, "payload": _b64("balanced")}]}, token=token)
    await s.http("send with a key", "POST", url, json_body={
        "partitioning": {"kind": "messages_key", "value": _b64("customer-42")},
        "messages": [{"id": 31, "payload": _b64("keyed")}]}, token=token)
    await s.http("send without waiting for the ack", "POST", f"{url}?ack=none", json_body={
        "partitioning": to_partition_1, "messages": [{"id": 41, "payload": _b64("fast")}]},
        token=token)
    await s.http("send an empty payload", "POST", url, json_body={
        "partitioning": to_partition_1, "messages": [{"id": 51, "payload": ""}]}, token=token)
    await s.http("send no messages", "POST", url, json_body={
        "partitioning": to_partition_1, "messages": []}, token=token)
    await s.http("send to a missing partition", "POST", url, json_body={
        "partitioning": {"kind": "partition_id", "value": _b64(struct.pack("<I", 9))},
        "messages": [{"id": 61, "payload": _b64("nowhere")}]}, token=token)
    query = "consumer_id=parity-reader&partition_id=1"
    await s.http("poll first", "GET", f"{url}?{query}&kind=first&count=10", token=token,
                 vary=("response.body.messages.2.header.id",))
    await s.http("poll last", "GET", f"{url}?{query}&kind=last&count=1", token=token)
    await s.http("poll from offset 1", "GET", f"{url}?{query}&kind=offset&value=1&count=1",
                 token=token)
    await s.http("poll next with auto commit", "GET",
                 f"{url}?{query}&kind=next&count=2&auto_commit=true", token=token)
    await s.http("poll next continues", "GET",
                 f"{url}?{query}&kind=next&count=2&auto_commit=true", token=token,
                 vary=("response.body.messages.0.header.id",))
    await s.http("poll by a timestamp in the future", "GET",
                 f"{url}?{query}&kind=timestamp&value=4000000000000000&count=5", token=token)
    await s.http("poll with defaults only", "GET", url, token=token)
    await s.http("poll a missing partition", "GET",
                 f"{url}?consumer_id=1&partition_id=9&kind=first&count=1", token=token)
    await s.http("poll with an unknown strategy", "GET", f"{url}?{query}&kind=sideways",
                 token=token)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)
