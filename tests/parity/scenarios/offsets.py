"""Stored consumer offsets (notebooks 04 and 05): store, read back, move back, delete."""

from __future__ import annotations

from apache_iggy import Consumer, IggyClient, PollingStrategy, SendMessage

from tests.http_json import topic_body
from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

STREAM, TOPIC = "parity-offsets", "events"


@scenario
async def offsets_over_tcp(s: Session) -> None:
    client = await s.connect()
    await s.sdk("create a stream", client.create_stream, STREAM)
    await s.sdk_raw("create a topic with two partitions", client, commands.CREATE_TOPIC,
                    commands.create_topic(STREAM, TOPIC, 2), commands.created)
    await s.sdk("send six to partition 0", client.send_messages, STREAM, TOPIC, 0,
                [SendMessage(f"m{n}", id=n + 1) for n in range(6)])

    async def offset(step: str, command: int, tail: bytes = b"", *, consumer: int | str =
                     "parity-reader", kind: int = commands.SINGLE, partition: int | None = 0,
                     topic: str = TOPIC, by: IggyClient = client) -> None:
        decode = commands.offset_reply if command == commands.GET_CONSUMER_OFFSET else None
        await s.sdk_raw(step, by, command, commands.offset_target(
            kind, consumer, STREAM, topic, partition) + tail, decode)

    get, store, delete = (commands.GET_CONSUMER_OFFSET, commands.STORE_CONSUMER_OFFSET,
                          commands.DELETE_CONSUMER_OFFSET)
    await offset("read an offset never stored", get)
    await offset("store offset 2", store, commands.store_offset(2))
    await offset("read it back", get)
    await s.sdk("poll next continues after the stored offset", client.poll_messages, STREAM,
                TOPIC, consumer=Consumer.Single("parity-reader"),
                polling_strategy=PollingStrategy.Next(), count=10, auto_commit=False,
                partition_id=0)
    await offset("move the offset back to 0", store, commands.store_offset(0))
    await offset("read the moved offset", get)
    await offset("store an offset past the end", store, commands.store_offset(40))
    await offset("read after storing past the end", get)
    await offset("store on an empty partition", store, commands.store_offset(0), partition=1)
    await offset("store on a missing partition", store, commands.store_offset(0), partition=5)
    await offset("store for a missing topic", store, commands.store_offset(0), topic="missing")
    await offset("read without a partition", get, partition=None)
    await offset("store a group's offset", store, commands.store_offset(3),
                 consumer="parity-group", kind=commands.GROUP)
    await s.sdk("create the group", client.create_consumer_group, STREAM, TOPIC,
                "parity-group")
    await offset("store the group's offset", store, commands.store_offset(3),
                 consumer="parity-group", kind=commands.GROUP)
    await offset("read the group's offset", get, consumer="parity-group", kind=commands.GROUP)
    # Only a member may write a group's offset; anyone allowed to poll may read it.
    member = await s.connect()
    await s.sdk("a second client joins the group", member.join_consumer_group, STREAM, TOPIC,
                "parity-group")
    group = {"consumer": "parity-group", "kind": commands.GROUP}
    await offset("the member stores the group's offset", store, commands.store_offset(3),
                 by=member, **group)
    await offset("a non-member reads the member's offset", get, **group)
    await offset("a non-member deletes the group's offset", delete, commands.delete_offset(),
                 **group)
    await offset("the member deletes the group's offset", delete, commands.delete_offset(),
                 by=member, **group)
    await s.sdk("the member leaves", member.leave_consumer_group, STREAM, TOPIC,
                "parity-group")
    # The acknowledgement byte that ends an offset write: 1 (what the SDK sends), 0, no other
    await offset("store without the acknowledgement byte", store,
                 commands.store_offset(1, ack=b""))
    await offset("store with an unknown acknowledgement", store,
                 commands.store_offset(1, ack=commands.ACK_UNKNOWN))
    await offset("store acknowledged by the leader only", store,
                 commands.store_offset(1, ack=commands.ACK_LEADER_ONLY))
    await offset("read the offset stored without a quorum", get)
    await offset("delete without the acknowledgement byte", delete,
                 commands.delete_offset(ack=b""))
    await offset("delete the offset", delete, commands.delete_offset())
    await offset("read the deleted offset", get)
    await offset("delete it again", delete, commands.delete_offset())
    await s.sdk("delete the stream", client.delete_stream, STREAM)


@scenario
async def offsets_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    await s.http("create a topic", "POST", f"/streams/{STREAM}/topics",
                 json_body=topic_body(TOPIC, 1), token=token)
    await s.http("send three messages", "POST", f"/streams/{STREAM}/topics/{TOPIC}/messages",
                 json_body={"partitioning": {"kind": "partition_id", "value": "AAAAAA=="},
                            "messages": [{"id": n, "payload": "bQ=="} for n in (1, 2, 3)]},
                 token=token)
    url = f"/streams/{STREAM}/topics/{TOPIC}/consumer-offsets"
    await s.http("read an offset never stored", "GET",
                 f"{url}?consumer_id=parity-reader&partition_id=0", token=token)
    await s.http("store offset 1", "PUT", url, json_body={
        "consumer_id": "parity-reader", "partition_id": 0, "offset": 1}, token=token)
    await s.http("read it back", "GET", f"{url}?consumer_id=parity-reader&partition_id=0",
                 token=token)
    await s.http("store with a numeric consumer id", "PUT", url, json_body={
        "consumer_id": 5, "partition_id": 0, "offset": 2}, token=token)
    await s.http("read the numeric consumer's offset", "GET",
                 f"{url}?consumer_id=5&partition_id=0", token=token)
    await s.http("store without an offset", "PUT", url, json_body={
        "consumer_id": "parity-reader", "partition_id": 0}, token=token)
    await s.http("store on a missing partition", "PUT", url, json_body={
        "consumer_id": "parity-reader", "partition_id": 4, "offset": 0}, token=token)
    await s.http("delete the offset", "DELETE", f"{url}/parity-reader?partition_id=0",
                 token=token)
    await s.http("read the deleted offset", "GET",
                 f"{url}?consumer_id=parity-reader&partition_id=0", token=token)
    await s.http("delete it again", "DELETE", f"{url}/parity-reader?partition_id=0",
                 token=token)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)
