"""A tiny raw-frame client for Iggy 0.9's binary protocol, for malformed-frame tests.

The SDK never sends a broken frame, so the robustness tests speak the framing by hand: a
256-byte request header (command 5, size at byte 48, operation at 176, code at 196) and a
body. Only what those tests need is here: build frames, send bytes, read one reply.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import xxhash

HEADER_SIZE = 256
COMMAND_REQUEST = 5
COMMAND_REPLY = 8
OP_REGISTER = 1
OP_NON_REPLICATED = 2
PING_CODE = 1
# Partition writes (send, store and delete an offset) carry no request checksum, like reads.
PARTITION_OPERATIONS = frozenset({160, 161, 162})


@dataclass(frozen=True)
class Reply:
    command: int
    operation: int
    status: int
    body: bytes


def request_frame(
    code: int = PING_CODE,
    body: bytes = b"",
    *,
    operation: int = OP_NON_REPLICATED,
    command: int = COMMAND_REQUEST,
    size: int | None = None,
    client_id: int = 0x5EED,
    session: int = 0,
) -> bytes:
    """A request frame; ``size`` overrides the header's length field (to lie about it).

    As the SDK sends them: a login has request number 0, everything else 1; login, logout
    and metadata writes carry XXH3-64 of the body as their request checksum. ``session``
    goes in the header as given (0 before login). Apache Iggy drops a login with another
    request number, and a write with session or request number 0, without an answer.
    """
    header = bytearray(HEADER_SIZE)
    struct.pack_into("<I", header, 48, HEADER_SIZE + len(body) if size is None else size)
    header[60] = command
    header[128:144] = client_id.to_bytes(16, "little")
    if operation != OP_NON_REPLICATED and operation not in PARTITION_OPERATIONS:
        header[144:160] = xxhash.xxh3_64_intdigest(body).to_bytes(16, "little")
    struct.pack_into("<Q", header, 168, 0 if operation == OP_REGISTER else 1)  # request number
    header[176] = operation
    struct.pack_into("<Q", header, 184, session)
    if operation == OP_NON_REPLICATED:
        struct.pack_into("<I", header, 196, code)
    return bytes(header) + body


def open_connection(address: str, timeout: float = 5.0) -> socket.socket:
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_reply(sock: socket.socket) -> Reply:
    """Read one reply or eviction frame; ConnectionError if the server closed instead."""
    header = _read_exactly(sock, HEADER_SIZE)
    (size,) = struct.unpack_from("<I", header, 48)
    body = _read_exactly(sock, size - HEADER_SIZE)
    (status,) = struct.unpack_from("<I", header, 216)
    return Reply(command=header[60], operation=header[208], status=status, body=body)


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (EOF or reset) before the socket timeout;
    anything it sends first is read and ignored."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError(f"server closed the connection after {len(chunks)} of {n} bytes")
        chunks += chunk
    return bytes(chunks)
