"""The SDK over HTTP (``IggyClient(HttpConfig(...))``): the same calls as over TCP, carried
as REST requests, so whatever the SDK's HTTP transport cannot do shows here."""

from __future__ import annotations

import asyncio

from apache_iggy import Consumer, HttpConfig, IggyClient, PollingStrategy, SendMessage

from tests.http_json import topic_body
from tests.parity.exchange import CLIENT_TIMEOUT, Session
from tests.parity.scenarios import scenario

STREAM = "parity-sdk-http"


@scenario
async def sdk_over_http(s: Session) -> None:
    client = IggyClient(HttpConfig(api_url=s.target.http_url))
    await asyncio.wait_for(client.connect(), CLIENT_TIMEOUT)
    await s.sdk("log in with a wrong password", client.login_user, s.target.username, "wrong")
    await s.sdk("log in", client.login_user, s.target.username, s.target.password)
    await s.sdk("create a stream", client.create_stream, STREAM)
    token = await s.http_login("log in over plain HTTP")
    await s.http("create a topic over plain HTTP", "POST", f"/streams/{STREAM}/topics",
                 json_body=topic_body("events", 2), token=token)
    await s.sdk("get the stream", client.get_stream, STREAM)
    await s.sdk("get a missing stream", client.get_stream, "parity-missing")
    await s.sdk("get the topic", client.get_topic, STREAM, "events")
    await s.sdk("send to partition 1", client.send_messages, STREAM, "events", 1,
                [SendMessage(f"over http {n}", id=n + 1) for n in range(3)])
    await s.sdk("send to a missing partition", client.send_messages, STREAM, "events", 7,
                [SendMessage("nowhere", id=9)])
    await s.sdk("poll them back", client.poll_messages, STREAM, "events",
                consumer=Consumer.Single("parity-http-reader"),
                polling_strategy=PollingStrategy.First(), count=10, auto_commit=False,
                partition_id=1)
    await s.sdk("list users", client.get_users)
    await s.sdk("stats", client.get_stats)
    await s.sdk("delete the stream", client.delete_stream, STREAM)
    await s.sdk("create a stream for the SDK's create_topic", client.create_stream, STREAM)
    await s.sdk("create a topic with the SDK's create_topic", client.create_topic, STREAM,
                "sdk-made", 1)
    await s.sdk("delete that stream", client.delete_stream, STREAM)
    await s.sdk("log out", client.logout_user)
