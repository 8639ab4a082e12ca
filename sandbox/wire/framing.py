"""Frames of the 0.9 protocol: a 256-byte header, then ``size - 256`` body bytes.

Requests carry command 5, replies 8, evictions 13. For reads (operation 2,
NonReplicated) the legacy command code sits at bytes 196..200; writes are told apart by
their operation byte alone. Replies echo the request's client id, request number and
operation, and carry an Iggy error code in ``status``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_SIZE = 256
MAX_BODY = 64 * 1024 * 1024 - HEADER_SIZE  # Iggy's message-bus frame cap, 64 MiB in all

COMMAND_REQUEST = 5
COMMAND_REPLY = 8
COMMAND_EVICTION = 13
# Iggy's consensus header knows commands 0..29. A client frame with a known command other
# than Request is dropped unanswered and the connection stays, as in Apache Iggy; an
# unknown command byte closes the connection.
LAST_KNOWN_COMMAND = 29

OP_REGISTER = 1
OP_NON_REPLICATED = 2
OP_LOGOUT = 3

# Eviction reasons
EVICT_NO_SESSION = 1
EVICT_INVALID_CREDENTIALS = 9
EVICT_INVALID_TOKEN = 10
EVICT_USER_INACTIVE = 11  # the SDK reports it as Unauthenticated
EVICT_STALE_CLIENT = 13
EVICT_INCOMPATIBLE_PROTOCOL = 14
EVICT_MALFORMED_LOGIN = 15

_U32 = struct.Struct("<I")
_SIZE_AT = 48
# From byte 48 of a request: size, command, client, request_checksum, request, operation,
# session, code
_REQUEST = struct.Struct("<I 8x B 67x 16s 16s 8x Q B 7x Q 4x I")
# A whole reply header: size, command, request_checksum, client, request, operation, status
_REPLY = struct.Struct("<48x I 8x B 67x 16s 16x 16s 16x 8x Q B 7x I 36x")


class FrameError(Exception):
    """A frame that cannot be served: the connection is closed (with a log line)."""


@dataclass(slots=True)
class RequestHeader:
    command: int
    size: int
    client: bytes
    request_checksum: bytes
    request: int
    operation: int
    session: int
    code: int

    @property
    def body_size(self) -> int:
        return self.size - HEADER_SIZE

    @property
    def is_request(self) -> bool:
        """False for a frame to drop unanswered (a known command other than Request)."""
        return self.command == COMMAND_REQUEST


def parse_request_header(header: bytes) -> RequestHeader:
    """Check the fixed part of a request header; bound the body before anything is read."""
    size, command, client, checksum, request, operation, session, code = (
        _REQUEST.unpack_from(header, _SIZE_AT))
    if command > LAST_KNOWN_COMMAND:
        raise FrameError(f"unknown command byte {command}")
    if size < HEADER_SIZE:
        raise FrameError(f"frame size {size} is smaller than the header")
    if size - HEADER_SIZE > MAX_BODY:
        raise FrameError(f"frame size {size} exceeds the limit of {MAX_BODY + HEADER_SIZE}")
    return RequestHeader(command, size, client, checksum, request, operation, session, code)


def reply_header(request: RequestHeader, body_len: int, status: int = 0) -> bytes:
    return _REPLY.pack(HEADER_SIZE + body_len, COMMAND_REPLY, request.request_checksum,
                       request.client, request.request, request.operation, status)


def eviction(client: bytes, reason: int, versions: tuple[int, int] = (0, 0)) -> bytes:
    """A 256-byte eviction frame; the SDK turns the reason into its login/session error."""
    header = bytearray(HEADER_SIZE)
    _U32.pack_into(header, _SIZE_AT, HEADER_SIZE)
    header[60] = COMMAND_EVICTION
    header[128:144] = client if any(client) else b"\x01" + bytes(15)
    struct.pack_into("<II", header, 144, *versions)
    header[255] = reason
    return bytes(header)
