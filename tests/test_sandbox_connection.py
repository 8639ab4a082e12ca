"""One TCP connection of the sandbox: frames however they arrive, replies in request order.

Frames sent together, cut into single bytes, larger than what a connection reads ahead, or
held back by the byte budget are all answered, one reply per request and in the order of the
requests, whether the reply is ready at once or has to wait (a login hashes its password off
the event loop). Requests that arrived before the client hung up still take effect, and a
client that leaves its replies unread is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncIterator

import pytest

from sandbox.app import Sandbox
from sandbox.server import connection
from tests.wire_client import HEADER_SIZE, PING_CODE, request_frame
from tests.wire_session import identifier, name, register_frame, send_messages_body

UNAUTHENTICATED = 40
CREATE_STREAM, CREATE_TOPIC, SEND, POLL = 128, 132, 160, 100


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    server = Sandbox(None, "iggy", "iggy", cleaner_interval=3600)
    await server.start(("127.0.0.1", 0), ("127.0.0.1", 0))
    try:
        yield server
    finally:
        await server.stop()


async def connect(server: Sandbox, reads: bool = True
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection; with ``reads=False`` one that takes in almost nothing of what the
    server sends (a small socket buffer, and a reader that stops at 8 KB)."""
    host, _, port = server.system.tcp_address.rpartition(":")
    sock = socket.socket()
    if not reads:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return await asyncio.open_connection(sock=sock, limit=2**24 if reads else 4096)


def tagged(tag: int, code: int = PING_CODE, body: bytes = b"", **kwargs) -> bytes:
    """A request whose client id is ``tag``, which its reply echoes."""
    return request_frame(code, body, client_id=tag, **kwargs)


async def replies(reader: asyncio.StreamReader, n: int) -> list[tuple[int, int, int]]:
    """The next ``n`` replies as (client id echoed, status, body length)."""
    got = []
    for _ in range(n):
        header = await asyncio.wait_for(reader.readexactly(HEADER_SIZE), 10)
        (size,) = struct.unpack_from("<I", header, 48)
        await reader.readexactly(size - HEADER_SIZE)
        tag = int.from_bytes(header[160:176], "little")
        got.append((tag, struct.unpack_from("<I", header, 216)[0], size - HEADER_SIZE))
    return got


def login_frame(tag: int) -> bytes:
    frame = bytearray(register_frame("iggy", "iggy"))
    frame[128:144] = tag.to_bytes(16, "little")
    return bytes(frame)


async def test_frames_sent_together_are_answered_in_order_even_behind_a_login(sandbox):
    reader, writer = await connect(sandbox)
    writer.write(tagged(1) + login_frame(2) + tagged(3) + tagged(4, code=20))
    got = await replies(reader, 4)
    assert [tag for tag, _, _ in got] == [1, 2, 3, 4]
    assert [status for _, status, _ in got] == [0, 0, 0, 0]  # code 20 (get me) after login
    writer.close()


async def test_a_frame_sent_byte_by_byte_is_answered(sandbox):
    reader, writer = await connect(sandbox)
    for byte in tagged(7, code=20):
        writer.write(bytes([byte]))
        await writer.drain()
    assert await replies(reader, 1) == [(7, UNAUTHENTICATED, 0)]
    writer.close()


async def test_a_frame_larger_than_the_read_ahead_then_a_ping(sandbox):
    reader, writer = await connect(sandbox)
    big = tagged(1, code=20, body=bytes(3 * connection.READ_AHEAD))
    writer.write(big + tagged(2))
    assert await replies(reader, 2) == [(1, UNAUTHENTICATED, 0), (2, 0, 0)]
    writer.close()


async def test_a_large_request_waits_for_its_share_of_the_budget_and_keeps_its_turn(sandbox):
    budget = sandbox.tcp.budget
    everything = budget.try_take(budget.total)
    reader, writer = await connect(sandbox)
    writer.write(tagged(1, code=20, body=bytes(200_000)) + tagged(2))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(1), 0.3)
    budget.give(everything)
    got = [(status, length) for _, status, length in await replies(reader, 1)]
    assert got == [(UNAUTHENTICATED, 0)]
    assert await replies(reader, 1) == [(2, 0, 0)]
    assert budget.free == budget.total
    writer.close()


async def test_requests_that_arrived_before_the_client_hung_up_take_effect(sandbox):
    reader, writer = await connect(sandbox)
    writer.write(login_frame(1) + request_frame(body=name("left-behind"),
                                                operation=CREATE_STREAM, session=1))
    writer.close()
    for _ in range(100):
        if any(s.name == "left-behind" for s in sandbox.system.streams.values()):
            break
        await asyncio.sleep(0.05)
    assert [s.name for s in sandbox.system.streams.values()] == ["left-behind"]
    assert not sandbox.tcp.connections and not sandbox.system.sessions


async def test_a_client_that_leaves_its_replies_unread_is_disconnected(sandbox, monkeypatch,
                                                                       caplog):
    monkeypatch.setattr(connection, "UNREAD_REPLY_TIMEOUT", 0.5)
    reader, writer = await connect(sandbox, reads=False)
    writer.write(login_frame(1) + request_frame(body=name("s"), operation=CREATE_STREAM,
                                                session=1)
                 + request_frame(body=identifier("s") + struct.pack("<I", 1) + name("t"),
                                 operation=CREATE_TOPIC, session=1)
                 + request_frame(body=send_messages_body("s", "t", 0, [bytes(100_000)] * 10),
                                 operation=SEND, session=1))
    await replies(reader, 4)
    poll = (b"\x01" + identifier(1) + identifier("s") + identifier("t") + b"\x01"
            + struct.pack("<I", 0) + b"\x03" + bytes(8) + struct.pack("<I", 10) + b"\x00")
    with caplog.at_level(logging.WARNING, "sandbox.tcp"):
        writer.write(request_frame(POLL, poll) * 20)  # 20 MB of replies that nobody reads
        await writer.drain()
        for _ in range(100):
            if not sandbox.tcp.connections:
                break
            await asyncio.sleep(0.05)
    assert not sandbox.tcp.connections
    assert "left a reply unread for 0.5 s" in caplog.text
    writer.close()
