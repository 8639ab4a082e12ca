"""Raw-frame sessions for the security, fault and fuzz tests: log in, encode a body, read the
error a reply carries.

``tests.wire_client`` builds and reads frames; this adds what hostile-input tests need on
top: the Register body, request-body primitives (names, identifiers) that can be made
invalid on purpose, the eviction reason of a frame, and the Iggy error code of a reply
whichever channel carries it (header status, or the result section of a write).
"""

from __future__ import annotations

import socket
import struct

from tests.wire_client import (
    HEADER_SIZE,
    OP_REGISTER,
    Reply,
    open_connection,
    read_reply,
    request_frame,
)

COMMAND_EVICTION = 13
PROTOCOL_VERSION = 0x2C00  # 0.11.0, what the 0.9.0 SDK sends
# Writes whose replies start with a result section (reference §1.7); not DeleteSegments
RESULT_FRAMED = (frozenset(range(128, 150)) - {138}) | {161, 162}


def name(raw: bytes | str) -> bytes:
    """``[u8 len][bytes]``; the bytes are sent as given (they may be invalid UTF-8)."""
    data = raw.encode() if isinstance(raw, str) else raw
    return bytes([len(data)]) + data


def identifier(value: int | str | bytes) -> bytes:
    """Numeric (kind 1) for an int, string (kind 2) otherwise."""
    if isinstance(value, int):
        return b"\x01\x04" + struct.pack("<I", value)
    return b"\x02" + name(value)


def register_body(username: str, password: str | bytes) -> bytes:
    """The Register (login) body the 0.9.0 SDK sends."""
    secret = password.encode() if isinstance(password, str) else password
    return (struct.pack("<I", PROTOCOL_VERSION) + name("rust-sdk") + name("0.11.0")
            + name(username) + name(secret) + struct.pack("<I", 0))


def register_frame(username: str, password: str | bytes) -> bytes:
    return request_frame(body=register_body(username, password), operation=OP_REGISTER)


def eviction_reason(sock: socket.socket) -> int | None:
    """Peek at the next frame: its eviction reason, or None when it is a reply.

    The frame stays in the socket, so ``read_reply`` consumes it afterwards.
    """
    header = sock.recv(HEADER_SIZE, socket.MSG_PEEK | socket.MSG_WAITALL)
    if len(header) < HEADER_SIZE:
        raise ConnectionError(f"server closed the connection after {len(header)} bytes")
    return header[255] if header[60] == COMMAND_EVICTION else None


def login(sock: socket.socket, username: str = "iggy", password: str = "iggy") -> None:
    """Log the raw connection in; AssertionError when the server refuses."""
    sock.sendall(register_frame(username, password))
    reason = eviction_reason(sock)
    reply = read_reply(sock)
    assert reason is None and reply.status == 0, (
        f"login as {username} refused (eviction reason {reason}, status {reply.status})")


def logged_in(address: str, username: str = "iggy", password: str = "iggy",
              timeout: float = 10.0) -> socket.socket:
    sock = open_connection(address, timeout)
    login(sock, username, password)
    return sock


def exchange(sock: socket.socket, code: int = 0, body: bytes = b"", *,
             operation: int = 2) -> tuple[int | None, Reply]:
    """Send one request; return (eviction reason or None, reply)."""
    sock.sendall(request_frame(code, body, operation=operation))
    reason = eviction_reason(sock)
    return reason, read_reply(sock)


def error_code(reply: Reply, operation: int) -> int:
    """The Iggy error code of a reply (0 = success), from the status or the result section."""
    if reply.status or operation not in RESULT_FRAMED:
        return reply.status
    (count,) = struct.unpack_from("<I", reply.body, 0)
    return struct.unpack_from("<I", reply.body, 8)[0] if count else 0


def send_messages_body(stream: int | str, topic: int | str, partition: int,
                       payloads: list[bytes]) -> bytes:
    """A SendMessages body (op 160) with correct checksums, as the SDK builds it."""
    import xxhash

    frames, sums = bytearray(), bytearray()
    for index, payload in enumerate(payloads):
        rest = ((index + 1).to_bytes(16, "little")
                + struct.pack("<IIIIQ", index, 0, 0, len(payload), 0) + payload)
        checksum = struct.pack("<Q", xxhash.xxh3_64_intdigest(rest))
        frames += checksum + rest
        sums += checksum
    length = 256 + len(frames)
    digest = xxhash.xxh3_64()
    digest.update(struct.pack("<QQQQQ", 0, 0, 0, 0, length) + struct.pack("<I", len(payloads)))
    digest.update(bytes(sums))
    header = bytearray(256)
    struct.pack_into("<QQQQQQI", header, 0, 0, 0, 0, 0, length, digest.intdigest(),
                     len(payloads))
    metadata = identifier(stream) + identifier(topic) + b"\x02\x04" + struct.pack("<I", partition)
    return (struct.pack("<I", len(metadata) + 4) + metadata + struct.pack("<I", len(payloads))
            + bytes(header) + bytes(frames))
