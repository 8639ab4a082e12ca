"""Message batches for the REST API: build one from JSON messages, read one back.

Over HTTP the server is the producer: it lays the messages out exactly as the SDK does over
TCP (the layout is documented in ``sandbox.wire.messages``), with XXH3 frame checksums and
the batch checksum, so the batch goes through the same ``accept_batch`` check and storage
as a TCP send. Polls walk the stored frames to give each message's offset and timestamps.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import xxhash

from sandbox.wire import messages as wire

# id (u128 LE as two u64), offset_delta, timestamp_delta, user_headers_length,
# payload_length, reserved; the whole frame header is the checksum (u64) and these
_FRAME_AFTER_CHECKSUM = struct.Struct("<QQIIIIQ")
_FRAME = struct.Struct("<QQQIIIIQ")
_U64 = struct.Struct("<Q")
_LOW_64 = 2**64 - 1


class Outgoing(NamedTuple):
    """One message to send: its id (never 0 here), payload and user-header TLV bytes."""

    id: int
    payload: bytes
    user_headers: bytes


class Stored(NamedTuple):
    """One message as a poll returns it (a tuple: a poll can carry thousands)."""

    checksum: int
    id: int
    offset: int
    timestamp: int
    origin_timestamp: int
    payload: bytes
    user_headers: bytes
    reserved: int


def build_batch(messages: Sequence[Outgoing], origin_timestamp: int) -> bytes:
    """A client batch (partition, offset and base timestamp left 0 for the server to stamp)."""
    parts = [b""]  # the batch header goes first, once the checksums are known
    pack, digest, checksum_field = _FRAME_AFTER_CHECKSUM.pack, xxhash.xxh3_64_intdigest, _U64.pack
    for index, (message_id, payload, user_headers) in enumerate(messages):
        rest = b"".join((pack(message_id & _LOW_64, message_id >> 64, index, 0,
                              len(user_headers), len(payload), 0), payload, user_headers))
        parts += (checksum_field(digest(rest)), rest)
    length = wire.BATCH_HEADER_SIZE + sum(map(len, parts))
    header_fields = (0, 0, 0, origin_timestamp, length)
    parts[0] = wire.sealed_header(header_fields, len(messages), b"".join(parts[1::2]))
    return b"".join(parts)


def read_batch(batch: bytes | memoryview) -> Iterator[Stored]:
    """The messages of one stored batch, in order."""
    _, base_offset, base_timestamp, origin, _, _, count = wire.read_header(batch)
    pos = wire.BATCH_HEADER_SIZE
    for _ in range(count):
        checksum, id_low, id_high, delta, ts_delta, headers_len, payload_len, reserved = (
            _FRAME.unpack_from(batch, pos))
        start = pos + wire.FRAME_HEADER_SIZE
        payload_end = start + payload_len
        yield Stored(checksum, id_high << 64 | id_low, base_offset + delta,
                     base_timestamp, origin + ts_delta, bytes(batch[start:payload_end]),
                     bytes(batch[payload_end:payload_end + headers_len]), reserved)
        pos = payload_end + headers_len
