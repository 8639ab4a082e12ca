"""The REST API: plain HTTP the way a learner's curl or notebook sends it, and the SDK's
HTTP transport (``IggyClient(HttpConfig(...))``).

Most tests talk to the session's server. Token expiry and a simulated bug need a server of
their own, so those run an HTTP front in this process.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import aiohttp
import pytest
from apache_iggy import (
    Consumer,
    HttpConfig,
    IggyClient,
    Partitioning,
    PollingStrategy,
    SendMessage,
)

from sandbox.http.app import HttpFront
from sandbox.http.context import TOKENS
from sandbox.state.system import System
from tests.http_json import GLOBAL_FLAGS, STREAM_FLAGS, TOPIC_FLAGS, topic_body

U64_MAX = 2**64 - 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Api:
    """A tiny urllib client: ``call`` returns (status, decoded JSON or text or None)."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None,
             raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if not payload:
            return status, None
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode()

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        got, answer = self.call(method, path, body)
        assert got == status, (method, path, got, answer)
        return answer

    def login(self, username: str, password: str) -> Api:
        identity = self.ok("POST", "/users/login", {"username": username, "password": password})
        return Api(self.base_url, identity["access_token"]["token"])


def root_credentials() -> tuple[str, str]:
    return os.environ.get("IGGY_USERNAME", "iggy"), os.environ.get("IGGY_PASSWORD", "iggy")


@pytest.fixture
def api(iggy_server) -> Api:
    """The session's REST API, logged in as root."""
    return Api(iggy_server.http_url).login(*root_credentials())


@pytest.fixture
def topic(api: Api, unique) -> tuple[str, str]:
    """A fresh stream with a 3-partition topic "t"."""
    stream = unique("http")
    api.ok("POST", "/streams", {"name": stream})
    api.ok("POST", f"/streams/{stream}/topics", topic_body("t", 3))
    return stream, "t"


def flags(names: tuple[str, ...], *granted: str) -> dict[str, bool]:
    """A permissions object with every flag Iggy requires, ``granted`` ones true."""
    return {name: name in granted for name in names}


def assert_iggy_error(answer: Any, id_: int, code: str) -> None:
    assert answer["id"] == id_ and answer["code"] == code, answer
    assert set(answer) == {"id", "code", "reason", "field"} and answer["reason"]


def send(api: Api, stream: str, topic: str, kind: str, value: bytes,
         payloads: list[bytes]) -> dict:
    body = {"partitioning": {"kind": kind, "value": b64(value)},
            "messages": [{"id": 0, "payload": b64(p)} for p in payloads]}
    answer = api.ok("POST", f"/streams/{stream}/topics/{topic}/messages", body, status=201)
    [confirmation] = answer["confirmations"]
    return confirmation


def poll(api: Api, stream: str, topic: str, **query: Any) -> dict:
    text = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                    for k, v in query.items())
    return api.ok("GET", f"/streams/{stream}/topics/{topic}/messages?{text}")


def payloads(polled: dict) -> list[bytes]:
    return [base64.b64decode(m["payload"]) for m in polled["messages"]]


# ---------------------------------------------------------------------------- login and tokens
def test_ping_answers_pong_without_login(iggy_server):
    assert Api(iggy_server.http_url).call("GET", "/ping") == (200, "pong")


def test_login_gives_a_bearer_token_that_lasts_an_hour(iggy_server):
    username, password = root_credentials()
    identity = Api(iggy_server.http_url).ok("POST", "/users/login",
                                            {"username": username, "password": password})
    assert isinstance(identity["user_id"], int)
    assert identity["access_token"]["token"]
    assert abs(identity["access_token"]["expiry"] - (time.time() + 3600)) < 120


def test_requests_without_a_valid_token_get_401_with_iggy_json(iggy_server):
    for token, code in ((None, (77, "access_token_missing")),
                        ("not-a-token", (40, "unauthenticated"))):
        status, answer = Api(iggy_server.http_url, token).call("GET", "/streams")
        assert status == 401
        assert_iggy_error(answer, *code)


def test_wrong_password_is_refused(iggy_server):
    status, answer = Api(iggy_server.http_url).call(
        "POST", "/users/login", {"username": root_credentials()[0], "password": "wrong"})
    assert status == 400
    assert_iggy_error(answer, 42, "invalid_credentials")


def test_logout_leaves_the_token_valid_as_iggy_does(api):
    api.ok("DELETE", "/users/logout", status=204)
    assert api.call("GET", "/streams")[0] == 200


def test_refresh_gives_a_new_token_and_keeps_the_old_one(api):
    identity = api.ok("POST", "/users/refresh-token", {"token": api.token})
    fresh = Api(api.base_url, identity["access_token"]["token"])
    assert fresh.token != api.token
    assert fresh.call("GET", "/streams")[0] == 200
    assert api.call("GET", "/streams")[0] == 200
    assert api.call("POST", "/users/refresh-token", {"token": "made-up"})[0] == 401


def test_personal_access_token_login_until_the_token_is_deleted(api, unique):
    name = unique("pat")[-20:]
    token = api.ok("POST", "/personal-access-tokens", {"name": name, "expiry": 0})["token"]
    assert name in [t["name"] for t in api.ok("GET", "/personal-access-tokens")]
    identity = api.ok("POST", "/personal-access-tokens/login", {"token": token})
    assert Api(api.base_url, identity["access_token"]["token"]).call("GET", "/streams")[0] == 200
    api.ok("DELETE", f"/personal-access-tokens/{name}", status=204)
    status, answer = api.call("POST", "/personal-access-tokens/login", {"token": token})
    assert status == 401
    assert_iggy_error(answer, 53, "invalid_personal_access_token")


def test_a_personal_access_token_is_a_bearer_until_it_is_deleted(api, unique):
    """Iggy accepts a personal access token itself as the bearer, checked on every request."""
    name = unique("pat")[-20:]
    token = api.ok("POST", "/personal-access-tokens", {"name": name, "expiry": 0})["token"]
    as_token = Api(api.base_url, token)
    assert as_token.call("GET", "/streams")[0] == 200
    assert as_token.call("GET", "/streams")[0] == 200  # the same session again
    api.ok("DELETE", f"/personal-access-tokens/{name}", status=204)
    status, answer = as_token.call("GET", "/streams")
    assert status == 401
    assert_iggy_error(answer, 40, "unauthenticated")


def test_expired_personal_access_token_is_refused(api, unique):
    name = unique("pat")[-20:]
    token = api.ok("POST", "/personal-access-tokens", {"name": name, "expiry": 1})["token"]
    try:
        status, _ = api.call("POST", "/personal-access-tokens/login", {"token": token})
        assert status == 401
    finally:
        api.ok("DELETE", f"/personal-access-tokens/{name}", status=204)


# ---------------------------------------------------------------------------- errors
def test_missing_things_answer_404_with_iggy_json(api):
    assert api.call("GET", "/no/such/route") == (404, None)  # routing: no body at all
    assert api.call("GET", "/streams/no-such-stream") == (404, {
        "id": 404, "code": "not_found", "reason": "Resource not found", "field": None})
    status, answer = api.call("DELETE", "/streams/no-such-stream")
    assert status == 404
    assert_iggy_error(answer, 1009, "stream_id_not_found")
    assert answer["field"] == "stream_id"


def test_malformed_bodies_are_refused_in_plain_text_as_iggy_does(api):
    assert api.call("POST", "/streams", raw=b'{"name": ') == (
        400, "Failed to parse the request body as JSON: name: EOF while parsing a value at "
             "line 1 column 9")
    assert api.call("POST", "/streams", {"name": 5}) == (
        422, "Failed to deserialize the JSON body into the target type: name: invalid type: "
             "integer `5`, expected a string at line 1 column 10")


def test_user_without_permissions_gets_403(api, unique):
    username = unique("u")[-20:]
    api.ok("POST", "/users", {"username": username, "password": "secret1", "status": "active",
                              "permissions": None})
    try:
        status, answer = api.login(username, "secret1").call("GET", "/streams")
        assert status == 403
        assert_iggy_error(answer, 41, "unauthorized")
    finally:
        api.ok("DELETE", f"/users/{username}", status=204)


# ---------------------------------------------------------------------------- streams and topics
def test_stream_and_topic_details(api, unique):
    stream = unique("http")
    created = api.ok("POST", "/streams", {"name": stream})
    assert created["name"] == stream and created["topics"] == []
    topic = api.ok("POST", f"/streams/{stream}/topics", {
        "name": "t1", "partitions_count": 3, "compression_algorithm": "gzip",
        "message_expiry": 10_000_000, "max_topic_size": 0,
        "options": {"durability": "replicated", "segment_size": "16 MiB"}})
    assert topic["compression_algorithm"] == "gzip"
    assert topic["message_expiry"] == 10_000_000
    assert topic["options"]["durability"] == {"value": "replicated", "explicit": True}
    assert topic["options"]["segment_size"] == {"value": str(16 * 2**20), "explicit": True}
    assert topic["options"]["consumer_offset_durability"]["explicit"] is False
    details = api.ok("GET", f"/streams/{created['id']}/topics/t1")
    assert [p["id"] for p in details["partitions"]] == [0, 1, 2]
    assert {"current_offset", "messages_count", "segments_count", "size",
            "created_at"} <= set(details["partitions"][0])
    assert [t["name"] for t in api.ok("GET", f"/streams/{stream}")["topics"]] == ["t1"]
    assert api.call("GET", f"/streams/{stream}/topics/nope")[0] == 404


def test_never_expiring_topic_reads_back_as_u64_max(api, topic):
    stream, name = topic
    assert api.ok("GET", f"/streams/{stream}/topics/{name}")["message_expiry"] == U64_MAX
    assert api.ok("GET", f"/streams/{stream}/topics/{name}")["max_topic_size"] == U64_MAX


def test_update_and_purge_stream_and_topic(api, topic):
    stream, name = topic
    api.ok("PUT", f"/streams/{stream}/topics/{name}",
           {"name": "t2", "compression_algorithm": None, "message_expiry": 5_000_000,
            "max_topic_size": None, "options": {}}, status=204)
    assert api.ok("GET", f"/streams/{stream}/topics/t2")["message_expiry"] == 5_000_000
    send(api, stream, "t2", "partition_id", struct.pack("<I", 0), [b"x"])
    api.ok("DELETE", f"/streams/{stream}/topics/t2/purge", status=204)
    assert api.ok("GET", f"/streams/{stream}/topics/t2")["messages_count"] == 0
    api.ok("DELETE", f"/streams/{stream}/purge", status=204)
    api.ok("PUT", f"/streams/{stream}", {"name": stream + "-b", "options": {}}, status=204)
    assert api.ok("GET", f"/streams/{stream}-b")["name"] == stream + "-b"


def test_partitions_are_added_and_removed(api, topic):
    stream, name = topic
    api.ok("POST", f"/streams/{stream}/topics/{name}/partitions", {"partitions_count": 2})
    assert api.ok("GET", f"/streams/{stream}/topics/{name}")["partitions_count"] == 5
    api.ok("DELETE", f"/streams/{stream}/topics/{name}/partitions?partitions_count=4",
           status=204)
    assert api.ok("GET", f"/streams/{stream}/topics/{name}")["partitions_count"] == 1


# ---------------------------------------------------------------------------- messages
def test_send_by_partition_id_and_poll_each_strategy(api, topic):
    stream, name = topic
    first = send(api, stream, name, "partition_id", struct.pack("<I", 2), [b"a", b"b"])
    second = send(api, stream, name, "partition_id", struct.pack("<I", 2), [b"c"])
    assert (first["partition_id"], first["base_offset"]) == (2, 0)
    assert (second["partition_id"], second["base_offset"]) == (2, 2)
    where = {"consumer_id": 1, "partition_id": 2}

    polled = poll(api, stream, name, kind="first", count=10, **where)
    assert payloads(polled) == [b"a", b"b", b"c"]
    assert polled["partition_id"] == 2 and polled["current_offset"] == 2
    assert [m["header"]["offset"] for m in polled["messages"]] == [0, 1, 2]
    assert payloads(poll(api, stream, name, kind="offset", value=1, count=1, **where)) == [b"b"]
    assert payloads(poll(api, stream, name, kind="last", count=1, **where)) == [b"c"]
    later = polled["messages"][2]["header"]["timestamp"]
    assert payloads(poll(api, stream, name, kind="timestamp", value=later, **where)) == [b"c"]

    assert payloads(poll(api, stream, name, kind="next", count=2, auto_commit=True,
                         **where)) == [b"a", b"b"]
    assert payloads(poll(api, stream, name, kind="next", count=2, auto_commit=True,
                         **where)) == [b"c"]


def test_balanced_and_key_partitioning_are_resolved_by_the_server(api, topic):
    stream, name = topic
    balanced = {send(api, stream, name, "balanced", b"", [b"m"])["partition_id"]
                for _ in range(3)}
    assert balanced == {0, 1, 2}
    keyed = {send(api, stream, name, "messages_key", b"order-7", [b"k"])["partition_id"]
             for _ in range(3)}
    assert len(keyed) == 1


def test_message_ids_and_user_headers_round_trip(api, topic):
    stream, name = topic
    headers = [{"key": {"kind": "string", "value": b64(b"source")},
                "value": {"kind": "uint32", "value": b64(struct.pack("<I", 7))}}]
    body = {"partitioning": {"kind": "partition_id", "value": b64(struct.pack("<I", 0))},
            "messages": [{"id": 12345, "payload": b64(b"\x00\xffbinary"),
                          "user_headers": headers},
                         {"payload": b64(b"no id")}]}
    api.ok("POST", f"/streams/{stream}/topics/{name}/messages", body, status=201)
    first, second = poll(api, stream, name, kind="first", partition_id=0)["messages"]
    assert first["header"]["id"] == 12345
    assert base64.b64decode(first["payload"]) == b"\x00\xffbinary"
    assert first["user_headers"] == headers
    assert second["header"]["id"] != 0 and second["user_headers"] == []
    # Iggy makes the id a random UUID v4 whose 16 bytes are the id read little-endian
    minted = uuid.UUID(bytes=second["header"]["id"].to_bytes(16, "little"))
    assert minted.version == 4 and minted.variant == uuid.RFC_4122


def test_bad_messages_are_refused_with_iggy_codes(api, topic):
    stream, name = topic
    target = {"kind": "partition_id", "value": b64(struct.pack("<I", 0))}
    path = f"/streams/{stream}/topics/{name}/messages"
    status, answer = api.call("POST", path, {"partitioning": target,
                                             "messages": [{"payload": ""}]})
    assert status == 422 and "Invalid message payload length" in answer
    status, answer = api.call("POST", path, {"partitioning": target, "messages": []})
    assert status == 400 and answer["code"] == "invalid_messages_count"
    target["value"] = b64(struct.pack("<I", 9))
    status, answer = api.call("POST", path, {"partitioning": target,
                                             "messages": [{"payload": b64(b"x")}]})
    assert status == 404 and answer["code"] == "resource_not_found"  # as any missing target


async def test_http_and_tcp_see_the_same_messages(api, topic, client):
    """A batch built by the HTTP front reads back over TCP, and the reverse."""
    stream, name = topic
    send(api, stream, name, "partition_id", struct.pack("<I", 0), [b"from http"])
    await client.send_messages(stream, name, Partitioning.partition_id(0),
                               [SendMessage(b"from tcp", id=77, user_headers={"n": 7})])
    over_tcp = await client.poll_messages(stream, name, consumer=Consumer.Single("x"),
                                          polling_strategy=PollingStrategy.First(), count=10,
                                          auto_commit=False, partition_id=0)
    assert [m.payload() for m in over_tcp] == [b"from http", b"from tcp"]
    over_http = poll(api, stream, name, kind="first", partition_id=0)["messages"]
    assert over_http[1]["header"]["id"] == 77
    assert over_http[1]["user_headers"] == [
        {"key": {"kind": "string", "value": b64(b"n")},
         "value": {"kind": "uint8", "value": b64(b"\x07")}}]


# ---------------------------------------------------------------------------- offsets, groups
def test_consumer_offsets_store_get_delete(api, topic):
    stream, name = topic
    send(api, stream, name, "partition_id", struct.pack("<I", 1), [b"a", b"b", b"c"])
    path = f"/streams/{stream}/topics/{name}/consumer-offsets"
    assert api.call("GET", f"{path}?consumer_id=worker&partition_id=1")[0] == 404
    api.ok("PUT", path, {"consumer_id": "worker", "partition_id": 1, "offset": 1}, status=204)
    assert api.ok("GET", f"{path}?consumer_id=worker&partition_id=1") == {
        "partition_id": 1, "current_offset": 2, "stored_offset": 1}
    assert payloads(poll(api, stream, name, consumer_id="worker", partition_id=1,
                         kind="next")) == [b"c"]
    api.ok("DELETE", f"{path}/worker?partition_id=1", status=204)
    assert api.call("GET", f"{path}?consumer_id=worker&partition_id=1")[0] == 404
    status, answer = api.call("DELETE", f"{path}/worker?partition_id=1")
    assert status == 404 and answer["code"] == "consumer_offset_not_found"


def test_consumer_groups_crud(api, topic):
    stream, name = topic
    path = f"/streams/{stream}/topics/{name}/consumer-groups"
    created = api.ok("POST", path, {"name": "g1"})
    assert created == {"id": created["id"], "name": "g1", "partitions_count": 3,
                       "members_count": 0, "members": []}
    assert [g["name"] for g in api.ok("GET", path)] == ["g1"]
    assert api.ok("GET", f"{path}/g1")["id"] == created["id"]
    api.ok("DELETE", f"{path}/g1", status=204)
    assert api.call("GET", f"{path}/g1")[0] == 404


# ---------------------------------------------------------------------------- users, system
def test_users_crud_password_and_permissions(api, unique):
    username = unique("u")[-20:]
    user = api.ok("POST", "/users", {"username": username, "password": "secret1",
                                     "status": "active", "permissions": None})
    try:
        assert user["username"] == username and user["permissions"] is None
        grants = {"global": flags(GLOBAL_FLAGS, "read_streams"),
                  "streams": {"0": {**flags(STREAM_FLAGS, "read_stream"),
                                    "topics": {"1": flags(TOPIC_FLAGS, "poll_messages")}}}}
        api.ok("PUT", f"/users/{user['id']}/permissions", {"permissions": grants}, status=204)
        permissions = api.ok("GET", f"/users/{username}")["permissions"]
        assert permissions["global"]["read_streams"] and not permissions["global"]["send_messages"]
        assert permissions["streams"]["0"]["topics"]["1"]["poll_messages"]
        own = api.login(username, "secret1")
        own.ok("PUT", f"/users/{username}/password",
               {"current_password": "secret1", "new_password": "secret2"}, status=204)
        assert own.ok("GET", f"/users/{username}")["username"] == username
        api.ok("PUT", f"/users/{username}", {"username": None, "status": "inactive"},
               status=204)
        status, _ = Api(api.base_url).call("POST", "/users/login",
                                           {"username": username, "password": "secret2"})
        assert status == 400
        assert username in [u["username"] for u in api.ok("GET", "/users")]
    finally:
        api.ok("DELETE", f"/users/{username}", status=204)
    assert api.call("GET", f"/users/{username}")[0] == 404


def test_stats_clients_options_and_cluster_metadata(api, iggy_server):
    stats = api.ok("GET", "/stats")
    assert stats["iggy_server_version"].startswith("0.9.0")
    assert "cache_metrics" in stats
    clients = api.ok("GET", "/clients")
    assert "HTTP" not in {c["transport"] for c in clients}  # HTTP callers are not clients
    assert stats["clients_count"] == len(clients)
    if clients:
        one = api.ok("GET", f"/clients/{clients[0]['client_id']}")
        assert one["client_id"] == clients[0]["client_id"] and "consumer_groups" in one
    assert api.call("GET", "/clients/4000000000")[0] == 404
    keys = {o["key"] for o in api.ok("GET", "/options/topic")}
    assert {"compression_algorithm", "message_expiry", "segment_size"} <= keys
    [node] = api.ok("GET", "/cluster/metadata")["nodes"]
    assert node["endpoints"]["http"] == int(iggy_server.http_url.rpartition(":")[2])


# ---------------------------------------------------------------------------- the SDK over HTTP
async def test_sdk_http_transport(iggy_server, unique):
    client = IggyClient(HttpConfig(api_url=iggy_server.http_url))
    await client.connect()
    await client.login_user(*root_credentials())
    stream = unique("http")
    await client.create_stream(name=stream)
    assert stream in [s.name for s in await client.get_streams()]
    assert (await client.get_stream(stream)).name == stream
    assert await client.get_stream(stream + "-missing") is None
    await client.create_topic(stream=stream, name="t", partitions_count=2)
    topic = await client.get_topic(stream, "t")
    assert topic.partitions_count == 2
    assert await client.get_topic(stream, "missing") is None
    await client.send_messages(stream, "t", Partitioning.partition_id(1),
                               [SendMessage("one"), SendMessage(b"two", user_headers={"k": "v"})])
    await client.send_messages(stream, "t", Partitioning.balanced(), [SendMessage("three")])
    polled = await client.poll_messages(stream, "t", consumer=Consumer.Single("sdk"),
                                        polling_strategy=PollingStrategy.First(), count=10,
                                        auto_commit=False, partition_id=1)
    assert [m.payload() for m in polled][:2] == [b"one", b"two"]
    assert [m.offset() for m in polled][:2] == [0, 1]
    [(key, value)] = polled[1].user_headers().items()
    assert (key.value, value.value) == ("k", "v")
    assert (await client.get_stats()).iggy_server_version.startswith("0.9.0")


# ---------------------------------------------------------------------------- curl
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_commands(iggy_server, unique):
    """The README's curl session: log in, then send one message and poll it back."""
    stream = unique("http")
    username, password = root_credentials()
    login_body = json.dumps({"username": username, "password": password})
    extract = 'import json,sys; print(json.load(sys.stdin)["access_token"]["token"])'
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_type = "-H 'Content-Type: application/json'"
    query = "consumer_id=1&partition_id=0&kind=first&value=0&count=5&auto_commit=false"
    script = f"""set -e
BASE={iggy_server.http_url}
TOKEN=$(curl -s -X POST $BASE/users/login {json_type} -d {shlex.quote(login_body)} \\
  | {shlex.quote(sys.executable)} -c {shlex.quote(extract)})
curl -sf -X POST {auth} {json_type} $BASE/streams -d '{{"name": "{stream}"}}' >/dev/null
curl -sf -X POST {auth} {json_type} $BASE/streams/{stream}/topics \\
  -d {shlex.quote(json.dumps(topic_body("t", 1)))} >/dev/null
curl -sf -X POST {auth} {json_type} $BASE/streams/{stream}/topics/t/messages \\
  -d '{{"partitioning": {{"kind": "partition_id", "value": "AAAAAA=="}},
       "messages": [{{"id": 0, "payload": "aGVsbG8="}}]}}' >/dev/null
curl -sf {auth} "$BASE/streams/{stream}/topics/t/messages?{query}"
"""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [m["payload"] for m in json.loads(done.stdout)["messages"]] == ["aGVsbG8="]


# ---------------------------------------------------------------------------- in-process front
class LocalFront:
    """An HTTP front of this process over an in-memory state, with a chosen token life."""

    def __init__(self, token_lifetime: float):
        self.system = System(None, "iggy", "iggy")
        self.front = HttpFront(self.system, token_lifetime=token_lifetime)
        self.url = ""

    async def __aenter__(self) -> LocalFront:
        host, port = await self.front.start("127.0.0.1", 0)
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.front.stop()

    async def call(self, method: str, path: str, body: Any = None,
                   token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session, session.request(
                method, self.url + path, json=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)


async def test_expired_access_token_is_refused():
    async with LocalFront(token_lifetime=0) as front:
        status, identity = await front.call("POST", "/users/login",
                                            {"username": "iggy", "password": "iggy"})
        assert status == 200
        status, answer = await front.call("GET", "/streams",
                                          token=identity["access_token"]["token"])
        assert status == 401 and answer["code"] == "unauthenticated"


async def test_http_logins_are_not_clients_and_die_with_the_front():
    async with LocalFront(token_lifetime=3600) as front:
        _, identity = await front.call("POST", "/users/login",
                                       {"username": "iggy", "password": "iggy"})
        assert front.system.sessions == {}
    assert front.front.app[TOKENS].grants == {}


async def test_a_server_bug_answers_500_json_without_a_traceback():
    async with LocalFront(token_lifetime=3600) as front:
        _, identity = await front.call("POST", "/users/login",
                                       {"username": "iggy", "password": "iggy"})

        def broken(user: object) -> list:
            raise RuntimeError("simulated bug")

        front.system.get_streams = broken
        status, answer = await front.call("GET", "/streams",
                                          token=identity["access_token"]["token"])
    assert status == 500
    assert answer["id"] == 1 and answer["code"] == "error"
    assert "simulated" not in answer["reason"] and "Traceback" not in answer["reason"]
