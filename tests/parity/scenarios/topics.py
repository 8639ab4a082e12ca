"""Topics and partitions (notebooks 02 and 03): settings, ids, partition changes, errors."""

from __future__ import annotations

from datetime import timedelta

from apache_iggy import IggyExpiry, MaxTopicSize, SendMessage

from tests.http_json import topic_body
from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

MIB = 1024 * 1024


@scenario
async def topics_over_tcp(s: Session) -> None:
    client = await s.connect()
    await s.sdk("create a stream", client.create_stream, "parity-topics")

    async def create(step: str, stream: int | str, topic: str, partitions: int,
                     **options: int | str) -> None:
        await s.sdk_raw(step, client, commands.CREATE_TOPIC,
                        commands.create_topic(stream, topic, partitions, **options),
                        commands.created)

    await create("create a topic with three partitions", "parity-topics", "orders", 3)
    await create("create a topic whose name exists", "parity-topics", "orders", 1)
    await create("create a topic in a missing stream", "parity-missing", "orders", 1)
    await create("create a topic with no partitions", "parity-topics", "empty", 0)
    await create("create a topic with 1001 partitions", "parity-topics", "wide", 1001)
    await create("create a topic with expiry, size cap and segment size", "parity-topics",
                 "bounded", 2, message_expiry=60_000_000, max_topic_size=8 * MIB,
                 segment_size=MIB)
    await create("create a topic with options as text", "parity-topics", "texts", 1,
                 message_expiry="15min", segment_size="2 MiB")
    await create("create a topic with a cap below its segment size", "parity-topics",
                 "tiny", 1, max_topic_size=MIB, segment_size=2 * MIB)
    await create("create a topic with a segment below 1 MiB", "parity-topics", "small", 1,
                 segment_size=1000)
    await create("create a topic with an unknown option", "parity-topics", "odd", 1,
                 colour="blue")
    await create("create a topic with gzip compression", "parity-topics", "zipped", 1,
                 compression_algorithm="gzip")
    await s.sdk("get a topic by name", client.get_topic, "parity-topics", "orders")
    await s.sdk("get a topic by id", client.get_topic, "parity-topics", 1)
    await s.sdk("get the bounded topic", client.get_topic, "parity-topics", "bounded")
    await s.sdk("get the topic created with text options", client.get_topic, "parity-topics",
                "texts")
    await s.sdk("get the gzip topic", client.get_topic, "parity-topics", "zipped")
    await s.sdk("get a missing topic", client.get_topic, "parity-topics", "missing")
    await s.sdk("get a topic of a missing stream", client.get_topic, "parity-missing", "orders")
    await s.sdk("list topics", client.get_topics, "parity-topics")
    await s.sdk("list topics of a missing stream", client.get_topics, "parity-missing")
    await s.sdk("update name, expiry and size cap", client.update_topic, "parity-topics",
                "bounded", "bounded-2",
                message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=90)),
                max_topic_size=MaxTopicSize.Custom(16 * MIB))
    await s.sdk("update a setting that is fixed at creation", client.update_topic,
                "parity-topics", "bounded-2", "bounded-2", options={"segment_size": "4 MiB"})
    await s.sdk("update to a taken name", client.update_topic, "parity-topics", "bounded-2",
                "orders")
    await s.sdk("get the updated topic", client.get_topic, "parity-topics", "bounded-2")
    await s.sdk("add two partitions", client.create_partitions, "parity-topics", "orders", 2)
    await s.sdk("add no partitions", client.create_partitions, "parity-topics", "orders", 0)
    await s.sdk("remove one partition", client.delete_partitions, "parity-topics", "orders", 1)
    await s.sdk("remove more partitions than exist", client.delete_partitions,
                "parity-topics", "orders", 10)
    await s.sdk("get the topic after partition changes", client.get_topic, "parity-topics",
                "orders")
    await s.sdk("add partitions to a missing topic", client.create_partitions,
                "parity-topics", "missing", 1)
    await s.sdk("purge a topic", client.purge_topic, "parity-topics", "orders")
    for step, partition, count in (("delete segments of a missing partition", 9, 1),
                                   ("delete segments when none is sealed", 0, 1),
                                   ("delete no segments", 0, 0)):
        await s.sdk_raw(step, client, commands.DELETE_SEGMENTS,
                        commands.delete_segments("parity-topics", "orders", partition, count))
    await s.sdk("delete a topic", client.delete_topic, "parity-topics", "texts")
    await s.sdk("delete it again", client.delete_topic, "parity-topics", "texts")
    await create("a new topic takes the lowest free id", "parity-topics", "reused", 1)
    await s.sdk("get the topic in the reused slot", client.get_topic, "parity-topics",
                "reused")
    await s.sdk("list topics at the end", client.get_topics, "parity-topics")
    for scope in ("topic", "stream", "user"):
        await s.sdk(f"describe the {scope} options", client.describe_options, scope)
    # What removing a partition, or a topic, that holds messages does to the counts
    await create("create a topic to count in", "parity-topics", "counted", 2)
    for partition in (0, 1):
        await s.sdk(f"send a message to partition {partition}", client.send_messages,
                    "parity-topics", "counted", partition, [SendMessage("x", id=partition + 1)])
    await s.sdk("remove a partition holding a message", client.delete_partitions,
                "parity-topics", "counted", 1)
    await s.sdk("the message count after removing a partition", client.get_topic,
                "parity-topics", "counted")
    await s.sdk("delete the topic holding a message", client.delete_topic, "parity-topics",
                "counted")
    await s.sdk("the server's counts after deleting a topic", client.get_stats)
    await s.sdk("describe options of an unknown scope", client.describe_options, "planet")
    await s.sdk("delete the stream with its topics", client.delete_stream, "parity-topics")


@scenario
async def topic_created_by_the_sdk(s: Session) -> None:
    """The 0.9.0 SDK's ``create_topic`` always sends the ``durability`` options."""
    client = await s.connect()
    await s.sdk("create a stream", client.create_stream, "parity-sdk")
    await s.sdk("create a topic with the SDK's create_topic", client.create_topic,
                "parity-sdk", "events", 1)
    await s.sdk("list the topics", client.get_topics, "parity-sdk")
    await s.sdk("delete the stream", client.delete_stream, "parity-sdk")


@scenario
async def topics_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    await s.http("create a stream", "POST", "/streams", json_body={"name": "parity-http"},
                 token=token)
    base = "/streams/parity-http/topics"
    full = topic_body("orders", 2)
    await s.http("create a topic", "POST", base, json_body=full, token=token)
    await s.http("create a topic whose name exists", "POST", base, json_body=full, token=token)
    await s.http("create a topic with expiry and size cap", "POST", base, json_body={
        **full, "name": "bounded", "message_expiry": 60_000_000,
        "max_topic_size": 2 * 1024 * MIB}, token=token)
    await s.http("create a topic with a cap below the segment size", "POST", base,
                 json_body={**full, "name": "tiny", "max_topic_size": MIB}, token=token)
    await s.http("create a topic with options", "POST", base, json_body={
        **full, "name": "opts", "options": {"segment_size": "2 MiB"}}, token=token)
    await s.http("create a topic with an unknown option", "POST", base, json_body={
        **full, "name": "odd", "options": {"colour": "blue"}}, token=token)
    await s.http("create a topic in a missing stream", "POST",
                 "/streams/parity-missing/topics", json_body=full, token=token)
    await s.http("get a topic by name", "GET", f"{base}/orders", token=token)
    await s.http("get a topic by id", "GET", f"{base}/1", token=token)
    await s.http("get a missing topic", "GET", f"{base}/missing", token=token)
    await s.http("list topics", "GET", base, token=token)
    await s.http("get the stream with its topics", "GET", "/streams/parity-http", token=token)
    await s.http("update a topic", "PUT", f"{base}/bounded", json_body={
        "name": "bounded-2", "compression_algorithm": "gzip", "message_expiry": 120_000_000,
        "max_topic_size": 4 * 1024 * MIB}, token=token)
    await s.http("get the updated topic", "GET", f"{base}/bounded-2", token=token)
    await s.http("add partitions", "POST", f"{base}/orders/partitions",
                 json_body={"partitions_count": 2}, token=token)
    await s.http("remove a partition", "DELETE", f"{base}/orders/partitions?partitions_count=1",
                 token=token)
    await s.http("list partitions (there is no such route)", "GET",
                 f"{base}/orders/partitions", token=token)
    await s.http("get the topic after partition changes", "GET", f"{base}/orders", token=token)
    await s.http("purge a topic", "DELETE", f"{base}/orders/purge", token=token)
    for step, path in (("delete segments when none is sealed", "orders/partitions/0"),
                       ("delete segments of a missing partition", "orders/partitions/9"),
                       ("delete segments of a missing topic", "missing/partitions/0")):
        await s.http(step, "DELETE", f"{base}/{path}?segments_count=1", token=token)
    await s.http("delete no segments", "DELETE", f"{base}/orders/partitions/0?segments_count=0",
                 token=token)
    await s.http("delete a topic", "DELETE", f"{base}/bounded-2", token=token)
    await s.http("delete a missing topic", "DELETE", f"{base}/bounded-2", token=token)
    await s.http("describe the topic options", "GET", "/options/topic", token=token)
    await s.http("describe options of an unknown scope", "GET", "/options/planet", token=token)
    await s.http("delete the stream", "DELETE", "/streams/parity-http", token=token)
