"""Message batches: the hot path of send and poll.

A batch is a 256-byte header followed by message frames, stored on disk exactly as it
goes back to pollers. Layout (little-endian)::

    batch header   0 partition_id u64 | 8 base_offset u64 | 16 base_timestamp u64 |
                   24 origin_timestamp u64 | 32 batch_length u64 | 40 batch_checksum u64 |
                   48 message_count u32 | 52..256 reserved (zero)
    message frame  0 checksum u64 (XXH3-64 of bytes 8..end) | 8 id u128 |
                   24 offset_delta u32 | 28 timestamp_delta u32 |
                   32 user_headers_length u32 | 36 payload_length u32 | 40 reserved u64 |
                   48 payload | user headers

The server stamps partition_id, base_offset and base_timestamp and recomputes the batch
checksum (XXH3-64 over the header fields and each frame's checksum). Frame checksums cover
nothing the server changes, so frames are stored untouched.
"""

from __future__ import annotations

import functools
import struct
from array import array
from dataclasses import dataclass

import xxhash

from sandbox.errors import Code, IggyError

BATCH_HEADER_SIZE = 256
FRAME_HEADER_SIZE = 48
MAX_PAYLOAD = 64_000_000
MAX_USER_HEADERS = 100_000

BATCH_FIELDS = struct.Struct("<QQQQQQI")  # pid, base_offset, base_ts, origin_ts, len, csum, count
_CHECKSUM_FIELDS = struct.Struct("<QQQQQI")  # the fields hashed: all but the checksum
# checksum, offset_delta, timestamp_delta, headers_len, payload_len, reserved
_FRAME = struct.Struct("<Q16xIIIIQ")
_STAMP = struct.Struct("<QQQ")
_RESERVED_ZEROS = bytes(BATCH_HEADER_SIZE - 52)  # a batch header's reserved tail
_WALK_BELOW = 32  # frames: fewer are checked quicker one by one than by column
_HEAD = struct.Struct("<QQQQ")  # pid, base_offset, base_timestamp, origin_timestamp
_LENGTHS = struct.Struct("<II")  # a frame's user_headers_length, payload_length (at 32)


@dataclass(slots=True)
class BatchInfo:
    """What the log's index keeps about one stored batch."""

    base_offset: int
    count: int
    base_timestamp: int
    length: int


def read_header(data: bytes | memoryview, pos: int = 0) -> tuple[int, ...]:
    """``(partition_id, base_offset, base_timestamp, origin_timestamp, length, checksum,
    count)``."""
    return BATCH_FIELDS.unpack_from(data, pos)


def frame_checksums(batch: bytes | memoryview, count: int) -> bytes:
    """Check every frame's bounds and return their checksum fields in order.

    Producers usually send frames of one size; those are checked column by column in C
    (byte slices with a step), anything else (and small batches) frame by frame.
    """
    uniform = _uniform_frames(batch, count)
    if uniform is not None:
        return uniform
    end = len(batch)
    pos = BATCH_HEADER_SIZE
    sums = []
    unpack = _FRAME.unpack_from
    last_header = end - FRAME_HEADER_SIZE
    for index in range(count):
        if pos > last_header:
            raise IggyError(Code.INVALID_MESSAGES_SIZE, end, pos + FRAME_HEADER_SIZE)
        checksum, delta, _, headers_len, payload_len, reserved = unpack(batch, pos)
        if (not 0 < payload_len <= MAX_PAYLOAD or headers_len > MAX_USER_HEADERS or reserved
                or delta != index):
            _reject_frame(delta, index, headers_len, payload_len, reserved)
        sums.append(checksum)
        pos += FRAME_HEADER_SIZE + payload_len + headers_len
    if pos != end:
        raise IggyError(Code.INVALID_MESSAGES_SIZE, end, pos)
    return struct.pack(f"<{count}Q", *sums)


def _uniform_frames(batch: bytes | memoryview, count: int) -> bytes | None:
    """The checksums of ``count`` valid frames that all share one header and payload length.

    That is what producers usually send, and it lets every check run as byte-slice
    comparisons in C. Returns None to let the frame-by-frame walk handle (and name) the rest.
    """
    if count < _WALK_BELOW:
        return None
    frames = bytes(memoryview(batch)[BATCH_HEADER_SIZE:])  # bytes slice fast with a step
    if len(frames) % count:
        return None
    stride = len(frames) // count
    if stride <= FRAME_HEADER_SIZE:
        return None
    lengths = bytes(frames[32:40])
    headers_len, payload_len = struct.unpack("<II", lengths)
    if (headers_len + payload_len != stride - FRAME_HEADER_SIZE or payload_len == 0
            or headers_len > MAX_USER_HEADERS
            or _column(frames, stride, 32, 8, count) != lengths * count
            or _column(frames, stride, 40, 8, count) != bytes(8 * count)
            or _column(frames, stride, 24, 4, count) != _deltas(count)):
        return None
    return _column(frames, stride, 0, 8, count)


def _column(frames: bytes, stride: int, offset: int, width: int, count: int) -> bytes:
    """Bytes ``offset..offset+width`` of every frame, concatenated."""
    out = bytearray(width * count)
    for j in range(width):
        out[j::width] = frames[offset + j::stride]
    return bytes(out)


@functools.lru_cache(maxsize=64)
def _deltas(count: int) -> bytes:
    return struct.pack(f"<{count}I", *range(count))


def _reject_frame(delta: int, index: int, headers_len: int, payload_len: int,
                  reserved: int) -> None:
    """Name the first thing wrong with a frame (kept off the hot loop)."""
    if payload_len == 0:
        raise IggyError(Code.EMPTY_MESSAGE_PAYLOAD)
    if payload_len > MAX_PAYLOAD:
        raise IggyError(Code.TOO_BIG_MESSAGE_PAYLOAD)
    if headers_len > MAX_USER_HEADERS:
        raise IggyError(Code.TOO_BIG_USER_HEADERS)
    if reserved:
        raise IggyError(Code.INVALID_RESERVED_FIELD, reserved)
    raise IggyError(Code.INVALID_FORMAT)


def batch_checksum(header_fields: tuple[int, int, int, int, int], count: int, sums: bytes) -> int:
    return xxhash.xxh3_64_intdigest(b"".join((_CHECKSUM_FIELDS.pack(*header_fields, count),
                                              sums)))


def accept_batch(data: memoryview, count: int) -> tuple[bytearray, bytes]:
    """Validate a batch as a client sent it; return a mutable copy and its frame checksums."""
    if count == 0:
        raise IggyError(Code.INVALID_MESSAGES_COUNT)
    if len(data) < BATCH_HEADER_SIZE:
        raise IggyError(Code.INVALID_FORMAT)
    pid, base, base_ts, origin, length, checksum, header_count = read_header(data)
    if header_count != count or length != len(data):
        raise IggyError(Code.INVALID_MESSAGES_SIZE, len(data), length)
    if data[52:BATCH_HEADER_SIZE] != _RESERVED_ZEROS:
        raise IggyError(Code.INVALID_RESERVED_FIELD, 1)
    sums = frame_checksums(data, count)
    expected = batch_checksum((pid, base, base_ts, origin, length), count, sums)
    if checksum != expected:
        raise IggyError(Code.INVALID_BATCH_CHECKSUM, checksum, expected, base)
    return bytearray(data), sums


def stamp(batch: bytearray, sums: bytes, partition_id: int, base_offset: int,
          base_timestamp: int) -> None:
    """Write where the batch landed and re-seal it with a fresh batch checksum."""
    _STAMP.pack_into(batch, 0, partition_id, base_offset, base_timestamp)
    _, _, _, origin, length, _, count = read_header(batch)
    checksum = batch_checksum((partition_id, base_offset, base_timestamp, origin, length),
                              count, sums)
    struct.pack_into("<Q", batch, 40, checksum)


def verify_stored(batch: bytes | memoryview) -> bool:
    """True when a stored batch is whole: frames fit and the batch checksum matches."""
    try:
        pid, base, base_ts, origin, length, checksum, count = read_header(batch)
        if length != len(batch) or count == 0:
            return False
        sums = frame_checksums(batch, count)
    except (IggyError, struct.error):
        return False
    return batch_checksum((pid, base, base_ts, origin, length), count, sums) == checksum


def frame_layout(batch: bytes, count: int) -> tuple[int | array, bytes]:
    """Where a stored batch's frames lie, and their checksum fields in order.

    The layout is one stride when the frames share a size; otherwise the offset of each
    frame from the first, then where the last one ends (``count + 1`` numbers).
    """
    sums = _uniform_frames(batch, count)
    if sums is not None:
        return (len(batch) - BATCH_HEADER_SIZE) // count, sums
    offsets = array("I")
    checksums = []
    add, lengths = offsets.append, _LENGTHS.unpack_from
    pos = BATCH_HEADER_SIZE
    for _ in range(count):
        add(pos - BATCH_HEADER_SIZE)
        checksums.append(batch[pos:pos + 8])
        headers_len, payload_len = lengths(batch, pos + 32)
        pos += FRAME_HEADER_SIZE + headers_len + payload_len
    add(pos - BATCH_HEADER_SIZE)
    return offsets, b"".join(checksums)


def reseal(head: bytes, frames: bytes, count: int, sums: bytes) -> bytes:
    """A stored batch cut down to ``frames`` (``count`` whole frames of it, whose checksum
    fields are ``sums``), as Iggy serves a poll that starts or ends inside a batch.

    ``head`` is the start of the stored batch header. Base offset and timestamps stay and the
    frames are untouched, so every message keeps its offset; length, count and the batch
    checksum are made anew.
    """
    pid, base, base_ts, origin = _HEAD.unpack_from(head)
    length = BATCH_HEADER_SIZE + len(frames)
    checksum = batch_checksum((pid, base, base_ts, origin, length), count, sums)
    header = bytearray(BATCH_HEADER_SIZE)
    BATCH_FIELDS.pack_into(header, 0, pid, base, base_ts, origin, length, checksum, count)
    return b"".join((header, frames))
