"""Hostile frames at the binary TCP port (Hypothesis): random and mutated requests, random
bodies for real commands, lying size fields, frames cut short.

For every case, on a connection that logged in first half of the time:
* a well-framed request (command 5, size = what was sent) gets a reply or an eviction frame
  within the timeout, never silence, never Iggy's generic error 1 (the sandbox's sign of an
  unhandled exception), and a poll never gets an empty OK body (the SDK cannot decode it);
* a frame the server cannot serve (an unknown command, size below 256 or above the limit)
  makes it close that connection within the timeout;
and after every case the server process is alive, a fresh SDK client gets its ping
answered, and the server's resident memory stays bounded.

A 4 GB size field and many connections that claim large bodies are checked on their own:
the server must not allocate what the header claims.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import ROOT_CREDENTIALS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.launch import SandboxProcess, start_sandbox
from sandbox.wire.framing import LAST_KNOWN_COMMAND
from tests.server_probe import answers_ping, assert_alive, rss_mb
from tests.wire_client import (
    HEADER_SIZE,
    OP_REGISTER,
    closed_by_server,
    open_connection,
    read_reply,
    request_frame,
)
from tests.wire_session import (
    RESULT_FRAMED,
    error_code,
    eviction_reason,
    identifier,
    logged_in,
    login,
    name,
    register_body,
    send_messages_body,
)

EXCHANGE_TIMEOUT = 10.0  # seconds, for one exchange on a loaded machine
RSS_GROWTH_LIMIT_MB = 200  # over the whole fuzz run
FRAME_RSS_LIMIT_MB = 24  # for one lying frame
GENERIC_ERROR = 1
POLL = 100
READ_CODES = [1, 10, 11, 12, 13, 20, 21, 22, 31, 32, 41, 100, 102, 120, 200, 201, 300, 301, 600,
              601, 606]
WRITE_OPERATIONS = [3, *range(128, 150), 160, 161, 162]
STREAM, TOPIC, GROUP = "fuzz", "t", "g"
U32_EDGES = [0, 1, 255, 256, 1000, 1001, 2**31 - 1, 2**31, 2**32 - 1]


_S, _T, _G = identifier(STREAM), identifier(TOPIC), identifier(GROUP)
_PARTITION = b"\x01" + struct.pack("<I", 0)
# (operation, code, body) of requests that are valid against the fixture's stream
VALID_REQUESTS = [
    (2, 200, _S),
    (2, 300, _S + _T),
    (2, 100, b"\x01" + identifier(7) + _S + _T + _PARTITION + b"\x01" + bytes(8)
     + struct.pack("<I", 10) + b"\x00"),
    (2, 100, b"\x02" + _G + _S + _T + _PARTITION + b"\x05" + bytes(8)
     + struct.pack("<I", 10) + b"\x01"),
    (2, 120, b"\x01" + identifier(7) + _S + _T + _PARTITION),
    (2, 606, _S + _T + _G),
    (2, 600, _S + _T + _G),
    (2, 13, b"\x01"),
    (2, 31, identifier(0)),
    (128, 0, name("fz-new")),
    (129, 0, _S + name("fuzz")),
    (132, 0, _S + struct.pack("<I", 1) + name("tt")),
    (136, 0, _S + _T + struct.pack("<I", 1)),
    (139, 0, _S + _T + name("g2")),
    (141, 0, name("fuzz-user") + name("password") + b"\x01\x00"),
    (146, 0, name("fuzz-token") + struct.pack("<Q", 0)),
    (148, 0, _S + _T + _G),
    (149, 0, _S + _T + _G),
    (160, 0, send_messages_body(STREAM, TOPIC, 0, [b"payload", b"more"])),
    (161, 0, b"\x01" + identifier(7) + _S + _T + _PARTITION + struct.pack("<Q", 0) + b"\x01"),
    (OP_REGISTER, 0, register_body("iggy", "iggy")),
]


@dataclass(frozen=True)
class Frame:
    """Bytes to send and what the server owes in return."""

    data: bytes
    expect: str  # "reply": an answer must come; "close": the server must hang up;
    #              "cut": the client vanishes after sending this
    operation: int = 2
    code: int = 0


def well_framed(operation: int, code: int, body: bytes) -> Frame:
    return Frame(request_frame(code, body, operation=operation), "reply", operation, code)


@st.composite
def random_requests(draw) -> Frame:
    operation = draw(st.sampled_from([1, 2, 3, *WRITE_OPERATIONS]) | st.integers(0, 255))
    code = draw(st.sampled_from(READ_CODES) | st.integers(0, 2**32 - 1))
    return well_framed(operation, code, draw(st.binary(max_size=300)))


@st.composite
def real_commands_random_bodies(draw) -> Frame:
    if draw(st.booleans()):
        return well_framed(2, draw(st.sampled_from(READ_CODES)), draw(st.binary(max_size=300)))
    return well_framed(draw(st.sampled_from(WRITE_OPERATIONS)), 0, draw(st.binary(max_size=300)))


@st.composite
def mutated_requests(draw) -> Frame:
    operation, code, body = draw(st.sampled_from(VALID_REQUESTS))
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "extend", "edge"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "extend":
            data[position:position] = draw(st.binary(min_size=1, max_size=40))
        elif len(data) >= 4:
            position = min(position, len(data) - 4)
            struct.pack_into("<I", data, position, draw(st.sampled_from(U32_EDGES)))
    return well_framed(operation, code, bytes(data))


@st.composite
def unservable_frames(draw) -> Frame:
    """Frames the server must refuse by closing the connection."""
    kind = draw(st.sampled_from(["small size", "huge size", "unknown command"]))
    body = draw(st.binary(max_size=64))
    if kind == "small size":
        return Frame(request_frame(1, body, size=draw(st.integers(0, HEADER_SIZE - 1))), "close")
    if kind == "huge size":
        size = draw(st.sampled_from([2**32 - 1, 2**31, 2**30 + 7]) | st.integers(2**27, 2**32 - 1))
        return Frame(request_frame(1, body, size=size), "close")
    command = draw(st.integers(LAST_KNOWN_COMMAND + 1, 255))  # a known one is only dropped
    return Frame(request_frame(1, body, command=command), "close")


@st.composite
def cut_frames(draw) -> Frame:
    """A request whose sender disappears part-way through it."""
    operation, code, body = draw(st.sampled_from(VALID_REQUESTS))
    data = request_frame(code, body, operation=operation)
    return Frame(data[:draw(st.integers(1, len(data) - 1))], "cut")


frames = st.one_of(random_requests(), real_commands_random_bodies(), mutated_requests(),
                   unservable_frames(), cut_frames())
cases = st.tuples(st.booleans(), st.lists(frames, min_size=1, max_size=4))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[tuple[SandboxProcess, str]]:
    """An in-memory sandbox of this module's own with a stream, topic and group to aim at."""
    log = tmp_path_factory.mktemp("fuzz") / "sandbox.log"
    server = start_sandbox(log_file=log, env={**os.environ, **ROOT_CREDENTIALS})
    try:
        with logged_in(server.tcp_address) as sock:
            for operation, body in ((128, name(STREAM)),
                                    (132, _S + struct.pack("<I", 2) + name(TOPIC)),
                                    (139, _S + _T + name(GROUP))):
                sock.sendall(request_frame(body=body, operation=operation))
                assert read_reply(sock).status == 0
        yield server, str(log)
    finally:
        server.stop()


def check_reply(sock: socket.socket, frame: Frame) -> bool:
    """Read the answer a well-framed request is owed; False once the connection is over."""
    try:
        reason = eviction_reason(sock)
        reply = read_reply(sock)
    except TimeoutError:
        pytest.fail(f"no answer within {EXCHANGE_TIMEOUT:g}s to {frame}")
    if reason is not None:
        return False  # an eviction ends the session; the server may also hang up
    assert reply.command == 8, f"reply command {reply.command} to {frame}"
    assert reply.operation == frame.operation, f"operation not echoed for {frame}"
    assert reply.status or frame.operation not in RESULT_FRAMED or len(reply.body) >= 4, (
        f"a write's OK reply without its result section: {frame}")
    code = error_code(reply, frame.operation)
    assert code != GENERIC_ERROR, f"generic error 1 (an unhandled exception?) for {frame}"
    if frame.operation == 2 and frame.code == POLL and code == 0:
        assert len(reply.body) >= 16, f"poll answered with {len(reply.body)} bytes: {frame}"
    return True


def play(address: str, with_login: bool, case: list[Frame], tally: Counter) -> None:
    with open_connection(address, EXCHANGE_TIMEOUT) as sock:
        if with_login:
            login(sock)
        for frame in case:
            tally[frame.expect] += 1
            try:
                sock.sendall(frame.data)
            except OSError:
                return  # the server hung up on an earlier frame
            if frame.expect == "cut":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if frame.expect == "close":
                assert closed_by_server(sock), f"server kept the connection open after {frame}"
                return
            try:
                if not check_reply(sock, frame):
                    return
            except ConnectionError:
                tally["closed after a well-framed request"] += 1
                return


def run_fuzz(fuzz_server, max_examples: int, capsys) -> None:
    server, log = fuzz_server
    loop = asyncio.new_event_loop()
    baseline = rss_mb(server.pid)
    tally: Counter = Counter()

    @settings(max_examples=max_examples, deadline=60_000,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases)
    def exchange_and_survive(case) -> None:
        with_login, frames_ = case
        tally["cases"] += 1
        play(server.tcp_address, with_login, frames_, tally)
        assert_alive(server, log)
        assert loop.run_until_complete(answers_ping(server.tcp_address)), (
            f"a fresh SDK client got no ping answer after {case}; see {log}")
        rss = rss_mb(server.pid)
        assert rss < baseline + RSS_GROWTH_LIMIT_MB, f"RSS {baseline:.0f} -> {rss:.0f} MB"

    try:
        exchange_and_survive()
    finally:
        loop.close()
        rss = f"{rss_mb(server.pid):.0f}" if server.popen.poll() is None else "(exited)"
        with capsys.disabled():
            print(f"\nwire fuzz: {tally['cases']} cases, {tally['reply']} well-framed requests, "
                  f"{tally['close']} unservable frames, {tally['cut']} cut frames; server RSS "
                  f"{baseline:.0f} -> {rss} MB")
    assert tally["cases"] >= min(max_examples, 100)
    assert_no_traceback(log)


def assert_no_traceback(log: str) -> None:
    """An exception the server did not expect leaves a traceback in its log."""
    with open(log, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    assert "Traceback" not in text, text[text.index("Traceback") - 300:][:3000]


def test_hostile_frames_never_crash_hang_or_bloat_the_server(fuzz_server, capsys):
    run_fuzz(fuzz_server, 200, capsys)


@pytest.mark.slow
def test_hostile_frames_long_run(fuzz_server, capsys):
    run_fuzz(fuzz_server, 3000, capsys)


async def test_a_4gb_size_field_is_refused_without_allocating(fuzz_server):
    server, log = fuzz_server
    before = rss_mb(server.pid)
    with open_connection(server.tcp_address, EXCHANGE_TIMEOUT) as sock:
        sock.sendall(request_frame(1, b"x" * 1024, size=2**32 - 1))
        assert closed_by_server(sock), "a 4 GB frame did not make the server hang up"
    assert rss_mb(server.pid) - before < FRAME_RSS_LIMIT_MB
    assert await answers_ping(server.tcp_address)
    assert_alive(server, log)
    assert_no_traceback(log)


async def test_connections_claiming_large_bodies_do_not_reserve_memory(fuzz_server):
    # 20 connections each announce a legal 60 MB body and send 64 KB of it: memory must
    # follow what arrived (about 1.3 MB), not what was announced (1.2 GB).
    server, log = fuzz_server
    before = rss_mb(server.pid)
    socks = [open_connection(server.tcp_address, EXCHANGE_TIMEOUT) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(request_frame(1, b"\0" * 65536, size=HEADER_SIZE + 60_000_000))
        await asyncio.sleep(0.5)
        assert await answers_ping(server.tcp_address)
        grown = rss_mb(server.pid) - before
        assert grown < FRAME_RSS_LIMIT_MB, f"RSS grew {grown:.0f} MB for 1.3 MB received"
    finally:
        for sock in socks:
            sock.close()
    assert_alive(server, log)
