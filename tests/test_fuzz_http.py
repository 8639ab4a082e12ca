"""Hostile requests at the HTTP API (Hypothesis): random JSON, JSON of the right shape with
wrong values, and non-JSON bodies, to every route of Iggy 0.9's REST API with odd path
identifiers and query strings, logged in for half of the cases.

Every request is answered within the timeout, never with a 500 (Iggy answers bad input with
4xx and its JSON error body ``{"id", "code", "reason", "field"}``), and after every case the
server is alive, answers a ping over HTTP and a fresh SDK client's ping over TCP, and has
logged no traceback. Deletes and updates never name the fuzz's own target (its stream,
topic and group, and the root user it logs in as), so every case finds them in place; after
the last case they must still be there.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlsplit

import pytest
from conftest import ROOT_CREDENTIALS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.launch import SandboxProcess, start_sandbox
from tests.http_json import topic_body
from tests.server_probe import answers_ping, assert_alive
from tests.test_fuzz_wire import assert_no_traceback

REQUEST_TIMEOUT = 15.0  # seconds, for one request on a loaded machine
ROOT = {"username": "iggy", "password": "iggy"}
S, T, P, G = "{s}", "{t}", "{p}", "{g}"
ROUTES = [
    ("GET", "/ping"), ("POST", "/users/login"), ("DELETE", "/users/logout"),
    ("POST", "/users/refresh-token"), ("POST", "/personal-access-tokens/login"),
    ("GET", "/stats"), ("GET", "/options/{s}"), ("GET", "/cluster/metadata"),
    ("GET", "/clients"), ("GET", "/clients/{s}"),
    ("GET", "/streams"), ("POST", "/streams"), ("GET", "/streams/{s}"),
    ("PUT", "/streams/{s}"), ("DELETE", "/streams/{s}"), ("DELETE", "/streams/{s}/purge"),
    ("GET", "/streams/{s}/topics"), ("POST", "/streams/{s}/topics"),
    ("GET", "/streams/{s}/topics/{t}"), ("PUT", "/streams/{s}/topics/{t}"),
    ("DELETE", "/streams/{s}/topics/{t}"), ("DELETE", "/streams/{s}/topics/{t}/purge"),
    ("POST", "/streams/{s}/topics/{t}/partitions"),
    ("DELETE", "/streams/{s}/topics/{t}/partitions"),
    ("DELETE", "/streams/{s}/topics/{t}/partitions/{p}"),
    ("POST", "/streams/{s}/topics/{t}/messages"), ("GET", "/streams/{s}/topics/{t}/messages"),
    ("GET", "/streams/{s}/topics/{t}/consumer-offsets"),
    ("PUT", "/streams/{s}/topics/{t}/consumer-offsets"),
    ("DELETE", "/streams/{s}/topics/{t}/consumer-offsets/{g}"),
    ("GET", "/streams/{s}/topics/{t}/consumer-groups"),
    ("POST", "/streams/{s}/topics/{t}/consumer-groups"),
    ("GET", "/streams/{s}/topics/{t}/consumer-groups/{g}"),
    ("DELETE", "/streams/{s}/topics/{t}/consumer-groups/{g}"),
    ("GET", "/users"), ("POST", "/users"), ("GET", "/users/{s}"), ("PUT", "/users/{s}"),
    ("DELETE", "/users/{s}"), ("PUT", "/users/{s}/password"), ("PUT", "/users/{s}/permissions"),
    ("GET", "/personal-access-tokens"), ("POST", "/personal-access-tokens"),
    ("DELETE", "/personal-access-tokens/{s}"), ("GET", "/no/such/route"),
]
FIELDS = ["name", "partitions_count", "compression_algorithm", "message_expiry",
          "max_topic_size", "options", "partitioning", "messages", "kind", "value", "id",
          "payload", "headers", "consumer", "partition_id", "offset", "username", "password",
          "status", "permissions", "current_password", "new_password", "token", "expiry",
          "global", "streams", "topics", "count", "auto_commit"]
QUERY_KEYS = ["consumer_id", "partition_id", "kind", "value", "count", "auto_commit",
              "partitions_count", "ack", "consistency"]

identifiers = st.one_of(
    st.sampled_from(["fuzz", "t", "g", "0", "1", "4294967295", "4294967296", "-1", "x" * 256,
                     "%FF", "..", "%2F..%2F", "%20", "null"]),
    st.integers(0, 2**64).map(str),
    st.text(min_size=1, max_size=40).map(lambda text: quote(text, safe="")),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False), st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5),
                           max_leaves=20)
shaped_objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    shaped_objects.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS),
                          st.one_of(st.text(max_size=20), st.integers(-5, 2**65).map(str)),
                          max_size=5)


# The fuzz's target (made by the fixture) and the user it logs in as, by name and by id:
# a delete or an update never names one of these
TARGET_NAMES = frozenset({"fuzz", "t", "g", "iggy"})
TARGET_IDS = frozenset({0, 1})


def spares_the_target(text: str) -> bool:
    """False when a path identifier resolves to the target (``00`` and ``%30`` are id 0)."""
    name = unquote(text)
    return not (name in TARGET_NAMES or name.isascii() and name.isdigit()
                and int(name) in TARGET_IDS)


def changes_what_it_names(method: str, template: str) -> bool:
    return method == "DELETE" or method == "PUT" and not template.endswith("consumer-offsets")


@st.composite
def http_requests(draw) -> tuple[str, str, bytes]:
    method, template = draw(st.sampled_from(ROUTES))
    if draw(st.booleans()):
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    names = (identifiers.filter(spares_the_target) if changes_what_it_names(method, template)
             else identifiers)
    path = template
    for marker in (S, T, P, G):
        if marker in path:
            path = path.replace(marker, draw(names))
    query = draw(queries)
    if query:
        path += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
    return method, path, draw(bodies)


cases = st.tuples(st.booleans(), st.lists(http_requests(), min_size=1, max_size=4))


@pytest.fixture(scope="module")
def http_server(tmp_path_factory) -> Iterator[tuple[SandboxProcess, str]]:
    log = tmp_path_factory.mktemp("http-fuzz") / "sandbox.log"
    server = start_sandbox(log_file=log, env={**os.environ, **ROOT_CREDENTIALS})
    try:
        token = login(server.http_url)
        assert token, "the HTTP API does not log in; see " + str(log)
        for method, path, body in (("POST", "/streams", {"name": "fuzz"}),
                                   ("POST", "/streams/fuzz/topics", topic_body("t", 2)),
                                   ("POST", "/streams/fuzz/topics/t/consumer-groups",
                                    {"name": "g"})):
            status, answer = send(server.http_url, method, path, json.dumps(body).encode(),
                                  token)
            assert status == 200, f"{method} {path}: {status}"
            assert json.loads(answer)["id"] in TARGET_IDS, "update TARGET_IDS: the target moved"
        yield server, str(log)
    finally:
        server.stop()


def send(url: str, method: str, path: str, body: bytes,
         token: str | None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port,
                                            timeout=REQUEST_TIMEOUT)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except TimeoutError:
        pytest.fail(f"no answer within {REQUEST_TIMEOUT:g}s to {method} {path}")
    finally:
        connection.close()


def login(url: str) -> str | None:
    status, body = send(url, "POST", "/users/login", json.dumps(ROOT).encode(), None)
    return json.loads(body)["access_token"]["token"] if status == 200 else None


# How Iggy's router and body decoder refuse a request before any Iggy check runs.
PLAIN_REFUSALS = (b"Failed to parse the request body", b"Failed to deserialize",
                  b"Failed to buffer the request body", b"Expected request with", b"Invalid URL")


def assert_http_alive(url: str, after: object) -> None:
    status, body = send(url, "GET", "/ping", b"", None)
    assert (status, body) == (200, b"pong"), f"HTTP ping after {after}: {status} {body[:200]!r}"


def assert_target_intact(url: str) -> None:
    token = login(url)
    assert token, "the root user no longer logs in over HTTP"
    status, body = send(url, "GET", "/streams/fuzz/topics/t/consumer-groups/g", b"", token)
    assert status == 200, f"the fuzz's stream, topic or group is gone: {status} {body[:200]!r}"


def run_fuzz(http_server, max_examples: int, capsys) -> None:
    server, log = http_server
    loop = asyncio.new_event_loop()
    tally: Counter = Counter()

    @settings(max_examples=max_examples, deadline=120_000,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases)
    def request_and_survive(case) -> None:
        with_login, requests = case
        tally["cases"] += 1
        token = login(server.http_url) if with_login else None
        tally["logins"] += with_login
        tally["logged in"] += token is not None
        for method, path, body in requests:
            status, answer = send(server.http_url, method, path, body, token)
            tally[f"{status // 100}xx"] += 1
            assert status < 500, f"{method} {path} {body[:200]!r} -> {status} {answer[:300]!r}"
            if status >= 400 and answer.startswith(b"{"):
                error = json.loads(answer)
                assert {"id", "code", "reason"} <= error.keys(), f"{method} {path}: {error}"
            elif status >= 400:  # refused before Iggy's checks: empty, or axum's plain text
                assert answer == b"" or answer.startswith(PLAIN_REFUSALS), (
                    f"{method} {path} -> {status} {answer[:300]!r}")
        assert_alive(server, log)
        assert_http_alive(server.http_url, case)
        assert loop.run_until_complete(answers_ping(server.tcp_address)), (
            f"no ping answer after {case}; see {log}")

    try:
        request_and_survive()
    finally:
        loop.close()
        with capsys.disabled():
            print(f"\nhttp fuzz: {tally['cases']} cases ({tally['logged in']} logged in), "
                  f"answers: {tally['2xx']} 2xx, {tally['4xx']} 4xx, {tally['5xx']} 5xx")
    assert tally["cases"] >= min(max_examples, 100)
    assert tally["logged in"] == tally["logins"], "the root user stopped logging in"
    assert_alive(server, log)
    assert_http_alive(server.http_url, "the last case")
    assert_target_intact(server.http_url)
    assert_no_traceback(log)


def test_hostile_http_requests_never_crash_or_hang_the_server(http_server, capsys):
    run_fuzz(http_server, 200, capsys)


@pytest.mark.slow
def test_hostile_http_requests_long_run(http_server, capsys):
    run_fuzz(http_server, 2000, capsys)
