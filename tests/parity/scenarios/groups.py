"""Consumer groups (notebook 05): create, join, leave, rebalance, more members than
partitions, group polls and the group's shared offset."""

from __future__ import annotations

from apache_iggy import Consumer, PollingStrategy, SendMessage

from tests.http_json import topic_body
from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

STREAM, TOPIC, GROUP = "parity-groups", "jobs", "workers"


@scenario
async def consumer_groups(s: Session) -> None:
    first = await s.connect()
    await s.sdk("create a stream", first.create_stream, STREAM)
    await s.sdk_raw("create a topic with two partitions", first, commands.CREATE_TOPIC,
                    commands.create_topic(STREAM, TOPIC, 2), commands.created)
    for partition in (0, 1):
        await s.sdk(f"send three to partition {partition}", first.send_messages, STREAM, TOPIC,
                    partition, [SendMessage(f"job-{partition}-{n}", id=10 * partition + n + 1)
                                for n in range(3)])
    await s.sdk("no groups yet", first.get_consumer_groups, STREAM, TOPIC)
    await s.sdk("create a group", first.create_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("create a group whose name exists", first.create_consumer_group, STREAM, TOPIC,
                GROUP)
    await s.sdk("create a group on a missing topic", first.create_consumer_group, STREAM,
                "missing", "other")
    await s.sdk("get the group by name", first.get_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("get the group by id", first.get_consumer_group, STREAM, TOPIC, 0)
    await s.sdk("get a missing group", first.get_consumer_group, STREAM, TOPIC, "missing")
    await s.sdk("join a missing group", first.join_consumer_group, STREAM, TOPIC, "missing")
    await s.sdk("first member joins", first.join_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("one member owns both partitions", first.get_consumer_group, STREAM, TOPIC,
                GROUP)
    await s.sdk("joining twice changes nothing", first.join_consumer_group, STREAM, TOPIC,
                GROUP)
    second = await s.connect()
    await s.sdk("second member joins", second.join_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("two members, one partition each", first.get_consumer_group, STREAM, TOPIC,
                GROUP)
    third = await s.connect()
    await s.sdk("third member joins", third.join_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("three members, two partitions: one member idle", first.get_consumer_group,
                STREAM, TOPIC, GROUP)
    await s.sdk("list groups with members", first.get_consumer_groups, STREAM, TOPIC)
    group = Consumer.Group(GROUP)
    for name, client in (("first", first), ("second", second), ("third", third)):
        await s.sdk(f"the {name} member polls its partition", client.poll_messages, STREAM,
                    TOPIC, consumer=group, polling_strategy=PollingStrategy.Next(), count=2,
                    auto_commit=True)
    await s.sdk("second member leaves", second.leave_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("the idle member takes over", first.get_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("leaving twice", second.leave_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("third member leaves", third.leave_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("the last member owns both again", first.get_consumer_group, STREAM, TOPIC,
                GROUP)
    await s.sdk("the remaining member polls the rest", first.poll_messages, STREAM, TOPIC,
                consumer=group, polling_strategy=PollingStrategy.Next(), count=10,
                auto_commit=True)
    await s.sdk("a non-member polls as the group", second.poll_messages, STREAM, TOPIC,
                consumer=group, polling_strategy=PollingStrategy.Next(), count=10,
                auto_commit=False)
    await s.sdk("add a partition while a member is in", first.create_partitions, STREAM, TOPIC,
                1)
    await s.sdk("the member owns the new partition too", first.get_consumer_group, STREAM,
                TOPIC, GROUP)
    await s.sdk("last member leaves", first.leave_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("the group is empty", first.get_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("create a second group", first.create_consumer_group, STREAM, TOPIC, "audit")
    await s.sdk("list both groups", first.get_consumer_groups, STREAM, TOPIC)
    await s.sdk("delete a group", first.delete_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("delete it again", first.delete_consumer_group, STREAM, TOPIC, GROUP)
    await s.sdk("a new group does not reuse the deleted id", first.create_consumer_group,
                STREAM, TOPIC, "again")
    await s.sdk("list groups at the end", first.get_consumer_groups, STREAM, TOPIC)
    await s.sdk("delete the stream", first.delete_stream, STREAM)


@scenario
async def consumer_groups_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    await s.http("create a topic", "POST", f"/streams/{STREAM}/topics",
                 json_body=topic_body(TOPIC, 2), token=token)
    url = f"/streams/{STREAM}/topics/{TOPIC}/consumer-groups"
    await s.http("create a group", "POST", url, json_body={"name": GROUP}, token=token)
    await s.http("create a group whose name exists", "POST", url, json_body={"name": GROUP},
                 token=token)
    await s.http("get the group", "GET", f"{url}/{GROUP}", token=token)
    await s.http("get a missing group", "GET", f"{url}/missing", token=token)
    await s.http("list groups", "GET", url, token=token)
    await s.http("delete the group", "DELETE", f"{url}/{GROUP}", token=token)
    await s.http("delete it again", "DELETE", f"{url}/{GROUP}", token=token)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)
