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

import numpy as np
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
_RESERVED_ZEROS = bytes(BATCH_HEADER_SIZE - 52)  # a batch header's reserved tail
_WHOLE_HEADER = struct.Struct(f"<QQQQQQI{BATCH_HEADER_SIZE - 52}x")  # the fields, then zeros
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


def frame_checksums(batch: bytes | memoryview, count: int) -> tuple[bytes, int]:
    """Check every frame's bounds; return their checksum fields in order, and the size all
    frames share (0 when they differ, or were not compared).

    Producers usually send frames of one size; those are checked all at once (numpy over
    records of one size), anything else (and small batches) frame by frame.
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
    return struct.pack(f"<{count}Q", *sums), 0


def _uniform_frames(batch: bytes | memoryview, count: int) -> tuple[bytes, int] | None:
    """The checksums of ``count`` valid frames that all share one header and payload length,
    and that length.

    That is what producers usually send, and it lets numpy check every frame's fields at
    once. Returns None to let the frame-by-frame walk handle (and name) the rest.
    """
    if count < _WALK_BELOW:
        return None
    size = len(batch) - BATCH_HEADER_SIZE
    if size % count:
        return None
    stride = size // count
    if stride <= FRAME_HEADER_SIZE:
        return None
    frames = frame_fields(batch, stride, count)
    lengths = frames["lengths"]
    headers_len, payload_len = _LENGTHS.unpack(lengths[:1].tobytes())
    if (headers_len + payload_len != stride - FRAME_HEADER_SIZE or payload_len == 0
            or headers_len > MAX_USER_HEADERS or not (lengths == lengths[0]).all()
            or frames["reserved"].any() or not (frames["offset_delta"] == _deltas(count)).all()):
        return None
    return frames["checksum"].tobytes(), stride


def frame_fields(data: bytes | memoryview, stride: int, count: int,
                 at: int = BATCH_HEADER_SIZE) -> np.ndarray:
    """``count`` frames of ``stride`` bytes each from byte ``at`` on, as records of the
    header fields the server reads (no copy)."""
    return np.frombuffer(data, _frame_dtype(stride), count, at)


@functools.lru_cache(maxsize=256)
def _frame_dtype(stride: int) -> np.dtype:
    return np.dtype({"names": ["checksum", "offset_delta", "lengths", "reserved"],
                     "formats": ["<u8", "<u4", "<u8", "<u8"], "offsets": [0, 24, 32, 40],
                     "itemsize": stride})


@functools.lru_cache(maxsize=64)
def _deltas(count: int) -> np.ndarray:
    return np.arange(count, dtype="<u4")


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


def accept_batch(data: memoryview, count: int) -> tuple[bytes, int]:
    """Validate a batch as a client sent it; return its frame checksums and the size its
    frames share (0 when they differ)."""
    if count == 0:
        raise IggyError(Code.INVALID_MESSAGES_COUNT)
    if len(data) < BATCH_HEADER_SIZE:
        raise IggyError(Code.INVALID_FORMAT)
    pid, base, base_ts, origin, length, checksum, header_count = read_header(data)
    if header_count != count or length != len(data):
        raise IggyError(Code.INVALID_MESSAGES_SIZE, len(data), length)
    if data[52:BATCH_HEADER_SIZE] != _RESERVED_ZEROS:
        raise IggyError(Code.INVALID_RESERVED_FIELD, 1)
    sums, stride = frame_checksums(data, count)
    expected = batch_checksum((pid, base, base_ts, origin, length), count, sums)
    if checksum != expected:
        raise IggyError(Code.INVALID_BATCH_CHECKSUM, checksum, expected, base)
    return sums, stride


def stamped_header(data: memoryview, sums: bytes, partition_id: int, base_offset: int,
                   base_timestamp: int) -> bytes:
    """An accepted batch's header as stored: where the batch landed, sealed with a fresh
    batch checksum. Its frames are stored as the client sent them."""
    _, _, _, origin, length, _, count = read_header(data)
    return sealed_header((partition_id, base_offset, base_timestamp, origin, length), count,
                          sums)


def sealed_header(fields: tuple[int, int, int, int, int], count: int, sums: bytes) -> bytes:
    """A whole batch header: its fields, the batch checksum over them, the count, zeros."""
    return _WHOLE_HEADER.pack(*fields, batch_checksum(fields, count, sums), count)


def verify_stored(batch: bytes | memoryview) -> bool:
    """True when a stored batch is whole: frames fit and the batch checksum matches."""
    try:
        pid, base, base_ts, origin, length, checksum, count = read_header(batch)
        if length != len(batch) or count == 0:
            return False
        sums, _ = frame_checksums(batch, count)
    except (IggyError, struct.error):
        return False
    return batch_checksum((pid, base, base_ts, origin, length), count, sums) == checksum


@dataclass(slots=True)
class FrameLayout:
    """Where a stored batch's frames lie, counted from the first: every ``stride`` bytes when
    they share a size; otherwise at ``offsets`` (``count + 1`` numbers, the last where the
    last frame ends), with their checksum fields ``sums`` in order."""

    stride: int = 0
    offsets: array | None = None
    sums: bytes = b""

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """Where frames ``lo..hi-1`` begin, and how many bytes they take."""
        if self.stride:
            return lo * self.stride, (hi - lo) * self.stride
        return self.offsets[lo], self.offsets[hi] - self.offsets[lo]

    def checksums(self, frames: bytes, lo: int, hi: int) -> bytes:
        """The checksum fields of frames ``lo..hi-1``, which ``frames`` holds."""
        if self.stride:
            return frame_fields(frames, self.stride, hi - lo, 0)["checksum"].tobytes()
        return self.sums[8 * lo:8 * hi]


def frame_layout(batch: bytes, count: int) -> FrameLayout:
    """Learn a stored batch's layout by reading it whole."""
    uniform = _uniform_frames(batch, count)
    if uniform is not None:
        return FrameLayout(uniform[1])
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
    return FrameLayout(offsets=offsets, sums=b"".join(checksums))


def reseal(head: bytes, frames: bytes, count: int, sums: bytes) -> bytes:
    """A stored batch cut down to ``frames`` (``count`` whole frames of it, whose checksum
    fields are ``sums``), as Iggy serves a poll that starts or ends inside a batch.

    ``head`` is the start of the stored batch header. Base offset and timestamps stay and the
    frames are untouched, so every message keeps its offset; length, count and the batch
    checksum are made anew.
    """
    fields = (*_HEAD.unpack_from(head), BATCH_HEADER_SIZE + len(frames))
    return sealed_header(fields, count, sums) + frames
