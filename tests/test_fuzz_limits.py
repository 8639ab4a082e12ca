"""Names at and past 255 bytes, non-UTF-8 names, ids out of range, counts of 0 and huge counts
get Iggy's errors.

The bodies are sent as raw frames, because the SDK refuses most of them before they leave
the client. Each expected code cites where Iggy decides it (apache/iggy, core/server unless
said otherwise): a body that does not decode is InvalidCommand (3) everywhere in
dispatch.rs and responses.rs; partition counts are bounded in dispatch.rs
(``validate_partitions_count``, ``validate_partitions_change_count``); missing partitions
and streams are typed not-founds for reads (responses.rs ``resolve_partition_namespace``,
integration test poll_semantics_vsr.rs), while a send to one is ResourceNotFound (20),
dispatch.rs ``dispatch_partition_request``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from urllib.request import Request, urlopen

import pytest
from conftest import start_private_sandbox

from sandbox.launch import SandboxProcess
from tests.wire_client import read_reply, request_frame
from tests.wire_session import (
    error_code,
    exchange,
    identifier,
    logged_in,
    name,
    send_messages_body,
)

INVALID_COMMAND = 3
STREAM_ID_NOT_FOUND = 1009
TOO_MANY_PARTITIONS = 2015
INVALID_PARTITIONS_COUNT = 2019
PARTITION_NOT_FOUND = 3007
RESOURCE_NOT_FOUND = 20
INVALID_STREAM_NAME = 1013
U32_MAX = 2**32 - 1
NON_UTF8 = b"\xff\xfe\xfd"
S, T = identifier("lim"), identifier("t")


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


def poll_body(partition: int = 0, count: int = 10, stream: bytes = S) -> bytes:
    return (b"\x01" + identifier(1) + stream + T + b"\x01" + u32(partition) + b"\x03"
            + bytes(8) + u32(count) + b"\x00")


@pytest.fixture(scope="module")
def limits(tmp_path_factory) -> Iterator[SandboxProcess]:
    """A sandbox with stream "lim", topic "t" (2 partitions) and 3 messages in partition 0."""
    server = start_private_sandbox(tmp_path_factory.mktemp("limits") / "data")
    try:
        with logged_in(server.tcp_address) as sock:
            for operation, body in ((128, name("lim")), (132, S + u32(2) + name("t")),
                                    (160, send_messages_body("lim", "t", 0,
                                                             [b"a", b"b", b"c"]))):
                sock.sendall(request_frame(body=body, operation=operation))
                assert error_code(read_reply(sock), operation) == 0
        yield server
    finally:
        server.stop()


def code_of(server: SandboxProcess, operation: int, code: int, body: bytes) -> int:
    with logged_in(server.tcp_address) as sock:
        reason, reply = exchange(sock, code, body, operation=operation)
    assert reason is None, f"evicted (reason {reason})"
    return error_code(reply, operation)


# (label, operation, code, body, expected Iggy error code)
CASES = [
    ("stream name of 255 bytes", 128, 0, name("s" * 255), 0),
    ("stream name not UTF-8", 128, 0, name(NON_UTF8), INVALID_COMMAND),
    ("stream name of 0 bytes", 128, 0, b"\x00", INVALID_COMMAND),
    ("topic name of 255 bytes", 132, 0, S + u32(1) + name("t" * 255), 0),
    ("topic name not UTF-8", 132, 0, S + u32(1) + name(NON_UTF8), INVALID_COMMAND),
    ("username not UTF-8", 141, 0, name(NON_UTF8) + name("password") + b"\x01\x00",
     INVALID_COMMAND),
    ("stream identifier not UTF-8", 2, 200, b"\x02" + name(NON_UTF8), INVALID_COMMAND),
    ("numeric identifier of 8 bytes", 2, 200, b"\x01\x08" + bytes(8), INVALID_COMMAND),
    ("identifier of an unknown kind", 2, 200, b"\x07\x04" + bytes(4), INVALID_COMMAND),
    ("topic with 0 partitions", 132, 0, S + u32(0) + name("empty"), 0),
    ("topic with 1001 partitions", 132, 0, S + u32(1001) + name("big"), TOO_MANY_PARTITIONS),
    ("topic with u32::MAX partitions", 132, 0, S + u32(U32_MAX) + name("huge"),
     TOO_MANY_PARTITIONS),
    ("create 0 partitions", 136, 0, S + T + u32(0), TOO_MANY_PARTITIONS),
    ("create u32::MAX partitions", 136, 0, S + T + u32(U32_MAX), TOO_MANY_PARTITIONS),
    ("delete 0 partitions", 137, 0, S + T + u32(0), TOO_MANY_PARTITIONS),
    ("delete more partitions than exist", 137, 0, S + T + u32(5), INVALID_PARTITIONS_COUNT),
    ("poll partition u32::MAX", 2, 100, poll_body(partition=U32_MAX), PARTITION_NOT_FOUND),
    ("poll stream id u32::MAX", 2, 100, poll_body(stream=identifier(U32_MAX)),
     STREAM_ID_NOT_FOUND),
    ("send to partition u32::MAX", 160, 0, send_messages_body("lim", "t", U32_MAX, [b"x"]),
     RESOURCE_NOT_FOUND),
]


@pytest.mark.parametrize(("operation", "code", "body", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_out_of_range_input_gets_iggys_error(limits, operation, code, body, expected):
    assert code_of(limits, operation, code, body) == expected


def test_missing_ids_read_as_not_found(limits):
    # "not found" on a get is status 0 with an empty body (the SDK returns None)
    for body in (identifier(U32_MAX), identifier("no-such-stream")):
        with logged_in(limits.tcp_address) as sock:
            reason, reply = exchange(sock, 200, body)
        assert (reason, reply.status, reply.body) == (None, 0, b"")


def test_poll_of_zero_messages_is_an_empty_poll(limits):
    with logged_in(limits.tcp_address) as sock:
        _, reply = exchange(sock, 100, poll_body(count=0))
    assert reply.status == 0
    assert struct.unpack_from("<I", reply.body, 12)[0] == 0 and len(reply.body) == 16


def test_poll_of_u32_max_messages_returns_what_exists(limits):
    with logged_in(limits.tcp_address) as sock:
        _, reply = exchange(sock, 100, poll_body(count=U32_MAX))
    assert reply.status == 0
    assert struct.unpack_from("<I", reply.body, 12)[0] == 3


def test_send_of_zero_messages_is_refused(limits):
    body = send_messages_body("lim", "t", 0, [])
    assert code_of(limits, 160, 0, body) != 0


def test_batch_header_claiming_more_messages_than_sent_is_refused(limits):
    body = bytearray(send_messages_body("lim", "t", 0, [b"one"]))
    struct.pack_into("<I", body, 26, U32_MAX)  # messages_count after the 22-byte metadata
    assert code_of(limits, 160, 0, bytes(body)) != 0


@pytest.mark.parametrize("bad_name", ["", "n" * 256])
def test_http_stream_name_outside_1_to_255_bytes_is_invalid_stream_name(limits, bad_name):
    token_request = Request(limits.http_url + "/users/login", method="POST",
                            data=json.dumps({"username": "iggy", "password": "iggy"}).encode(),
                            headers={"Content-Type": "application/json"})
    with urlopen(token_request, timeout=15) as response:
        token = json.load(response)["access_token"]["token"]
    create = Request(limits.http_url + "/streams", method="POST",
                     data=json.dumps({"name": bad_name}).encode(),
                     headers={"Content-Type": "application/json",
                              "Authorization": f"Bearer {token}"})
    with pytest.raises(Exception) as refused:
        urlopen(create, timeout=15)
    assert refused.value.code == 400
    assert json.load(refused.value)["id"] == INVALID_STREAM_NAME
