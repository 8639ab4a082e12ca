"""What a learner with curl meets (notebook 08, the README): bad bodies and content types,
missing tokens, unknown routes, CORS, sizes in JSON, the system routes."""

from __future__ import annotations

import base64

from tests.http_json import GLOBAL_FLAGS, STREAM_FLAGS, topic_body
from tests.parity.exchange import Session
from tests.parity.scenarios import scenario

STREAM, TOPIC = "parity-http-api", "events"
TOPIC_FIELDS = topic_body(TOPIC, 1)


@scenario
async def http_requests_gone_wrong(s: Session) -> None:
    await s.http("ping needs no token", "GET", "/ping")
    await s.http("no Authorization header", "GET", "/streams")
    await s.http("no Authorization header on a write", "POST", "/streams",
                 json_body={"name": "parity-x"})
    token = await s.http_login("log in")
    await s.http("an unknown route", "GET", "/nowhere", token=token)
    await s.http("an unknown route without a token", "GET", "/nowhere")
    await s.http("a method the route does not have", "PATCH", "/streams", token=token)
    await s.http("DELETE on the stream list", "DELETE", "/streams", token=token)
    await s.http("a JSON body sent as text/plain", "POST", "/streams", data=b'{"name": "x"}',
                 headers={"Content-Type": "text/plain"}, token=token)
    await s.http("a body without a content type", "POST", "/streams", data=b'{"name": "x"}',
                 token=token)
    await s.http("malformed JSON", "POST", "/streams", data=b'{"name": ',
                 headers={"Content-Type": "application/json"}, token=token)
    await s.http("a JSON array instead of an object", "POST", "/streams", json_body=["x"],
                 token=token)
    await s.http("a name of the wrong type", "POST", "/streams", json_body={"name": 5},
                 token=token)
    await s.http("a login without a body", "POST", "/users/login",
                 headers={"Content-Type": "application/json"})
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    topics = f"/streams/{STREAM}/topics"
    for field in ("compression_algorithm", "message_expiry", "max_topic_size",
                  "partitions_count"):
        await s.http(f"create a topic without {field}", "POST", topics, json_body={
            key: value for key, value in TOPIC_FIELDS.items() if key != field}, token=token)
    await s.http("create a topic with an unknown compression", "POST", topics,
                 json_body={**TOPIC_FIELDS, "compression_algorithm": "brotli"}, token=token)
    await s.http("create a user without a status", "POST", "/users", json_body={
        "username": "parity-x", "password": "parity-pass-1"}, token=token)
    await s.http("create a user without a password", "POST", "/users", json_body={
        "username": "parity-x", "status": "active"}, token=token)
    await s.http("create the topic", "POST", topics, json_body=TOPIC_FIELDS, token=token)
    await s.http("send without partitioning", "POST", f"{topics}/{TOPIC}/messages",
                 json_body={"messages": [{"id": 1, "payload": "eA=="}]}, token=token)
    await s.http("send a payload that is not base64", "POST", f"{topics}/{TOPIC}/messages",
                 json_body={"partitioning": {"kind": "balanced", "value": ""},
                            "messages": [{"id": 1, "payload": "not base64!"}]}, token=token)
    await s.http("poll a missing stream", "GET",
                 "/streams/parity-missing/topics/events/messages?consumer_id=1&partition_id=0"
                 "&kind=first&count=1", token=token)
    await s.http("poll a missing topic", "GET",
                 f"{topics}/missing/messages?consumer_id=1&partition_id=0&kind=first&count=1",
                 token=token)
    await s.http("read the offset of a missing topic", "GET",
                 f"{topics}/missing/consumer-offsets?consumer_id=1&partition_id=0", token=token)
    await s.http("a partition id that is not a number", "GET",
                 f"{topics}/{TOPIC}/messages?consumer_id=1&partition_id=x&kind=first",
                 token=token)
    await s.http("a body over the size limit", "POST", "/streams",
                 json_body={"name": "x" * (3 * 1024 * 1024)}, token=token)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)


@scenario
async def http_bodies_and_queries_gone_wrong(s: Session) -> None:
    """Less common mistakes: what axum and serde say, word for word."""
    token = await s.http_login("log in")
    json_type = {"Content-Type": "application/json"}

    async def raw(step: str, method: str, path: str, body: bytes) -> None:
        await s.http(step, method, path, data=body, headers=json_type, token=token)

    await raw("text after the JSON", "POST", "/streams", b'{"name": "x"} y')
    await raw("a field given twice", "POST", "/streams", b'{"name": "a", "name": "b"}')
    await raw("a key without quotes", "POST", "/streams", b'{name: "x"}')
    await raw("a missing colon", "POST", "/streams", b'{"name" "x"}')
    await raw("a trailing comma", "POST", "/streams", b'{"name": "x",}')
    await raw("a body on two lines", "POST", "/streams", b'{\n  "name": 7\n}')
    await raw("an unfinished string", "POST", "/streams", b'{"name": "x')
    await raw("a number with a leading zero", "POST", "/streams/0/topics",
              b'{"partitions_count": 01}')
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    topics = f"/streams/{STREAM}/topics"
    for label, count in (("negative", -1), ("too large", 5_000_000_000), ("a string", "2"),
                         ("a float", 1.5), ("null", None)):
        await s.http(f"a partitions count that is {label}", "POST", topics,
                     json_body={**TOPIC_FIELDS, "partitions_count": count}, token=token)
    await s.http("a message expiry as text", "POST", topics,
                 json_body={**TOPIC_FIELDS, "message_expiry": "1h"}, token=token)
    await s.http("options that are not text", "POST", topics,
                 json_body={**TOPIC_FIELDS, "options": {"segment_size": 1048576}}, token=token)
    await s.http("permissions missing a flag", "POST", "/users", json_body={
        "username": "parity-x", "password": "parity-pass-1", "status": "active",
        "permissions": {"global": {"read_streams": True}, "streams": None}}, token=token)
    await s.http("a stream id that is not a number in permissions", "PUT",
                 "/users/0/permissions", json_body={"permissions": {
                     "global": dict.fromkeys(GLOBAL_FLAGS, False),
                     "streams": {"first": dict.fromkeys(STREAM_FLAGS, False)}}}, token=token)
    await s.http("create the topic", "POST", topics, json_body=TOPIC_FIELDS, token=token)
    messages = f"{topics}/{TOPIC}/messages"
    balanced = {"kind": "balanced", "value": ""}
    await s.http("an unknown field in a send", "POST", messages, json_body={
        "partitioning": balanced, "messages": [], "extra": 1}, token=token)
    await s.http("a message id that is not a number", "POST", messages, json_body={
        "partitioning": balanced, "messages": [{"id": "abc", "payload": "eA=="}]}, token=token)
    await s.http("a message without a payload", "POST", messages, json_body={
        "partitioning": balanced, "messages": [{"id": 1}]}, token=token)
    await s.http("an unknown partitioning kind", "POST", messages, json_body={
        "partitioning": {"kind": "random", "value": ""}, "messages": []}, token=token)
    await s.http("a partition id of three bytes", "POST", messages, json_body={
        "partitioning": {"kind": "partition_id", "value": "AAAA"},
        "messages": [{"id": 1, "payload": "eA=="}]}, token=token)
    await s.http("an unknown ack", "POST", f"{messages}?ack=maybe", json_body={
        "partitioning": balanced, "messages": [{"id": 1, "payload": "eA=="}]}, token=token)
    base = f"{messages}?consumer_id=1&partition_id=0"
    for label, query in (("a negative count", "kind=first&count=-1"),
                         ("an empty count", "kind=first&count="),
                         ("auto commit that is not a boolean", "kind=next&auto_commit=yes"),
                         ("a value that is not a number", "kind=offset&value=abc")):
        await s.http(f"poll with {label}", "GET", f"{base}&{query}", token=token)
    await s.http("remove partitions without a count", "DELETE", f"{topics}/{TOPIC}/partitions",
                 token=token)
    await s.http("a client id that is not a number", "GET", "/clients/abc", token=token)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)


@scenario
async def http_system_routes(s: Session) -> None:
    origin = {"Origin": "http://parity.example"}
    await s.http("a CORS preflight", "OPTIONS", "/streams", headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization"})
    await s.http("a login from another origin", "POST", "/users/login", headers=origin,
                 json_body={"username": s.target.username, "password": s.target.password})
    token = await s.http_login("log in")
    tcp = await s.connect()
    await s.http("list clients: the TCP client, not the HTTP logins", "GET", "/clients",
                 token=token)
    await s.http("get a missing client", "GET", "/clients/4000000", token=token)
    await s.http("cluster metadata", "GET", "/cluster/metadata", token=token,
                 vary=("response.body.nodes.*.endpoints",))
    await s.http("metrics need a token", "GET", "/metrics")
    await s.http("metrics in Prometheus text", "GET", "/metrics", token=token)
    await s.http("a snapshot", "POST", "/snapshot", json_body={
        "compression": "Deflated", "snapshot_types": ["Test"]}, token=token)
    await s.http("a snapshot without a body", "POST", "/snapshot", token=token)
    await s.http("create a stream", "POST", "/streams", json_body={"name": STREAM}, token=token)
    await s.http("create a topic", "POST", f"/streams/{STREAM}/topics", json_body=TOPIC_FIELDS,
                 token=token)
    await s.http("list clients after HTTP writes", "GET", "/clients", token=token)
    payload = base64.b64encode(b"x" * 1000).decode()
    await s.http("send 60 messages of 1000 bytes", "POST",
                 f"/streams/{STREAM}/topics/{TOPIC}/messages", json_body={
                     "partitioning": {"kind": "partition_id", "value": "AAAAAA=="},
                     "messages": [{"id": n + 1, "payload": payload} for n in range(60)]},
                 token=token)
    await s.http("sizes in the stream list", "GET", "/streams", token=token)
    await s.http("sizes in the stream", "GET", f"/streams/{STREAM}", token=token)
    await s.http("sizes in the topic and its partitions", "GET",
                 f"/streams/{STREAM}/topics/{TOPIC}", token=token)
    await s.sdk("the same sizes over TCP", tcp.get_topic, STREAM, TOPIC)
    await s.http("stats count what exists", "GET", "/stats", token=token)
    await s.sdk("stats over TCP", tcp.get_stats)
    await s.http("delete the stream", "DELETE", f"/streams/{STREAM}", token=token)
