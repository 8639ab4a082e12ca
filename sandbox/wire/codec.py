"""Primitive encodings of the 0.9 binary protocol (all little-endian).

``Reader`` decodes a request body from memory; every short read or bad value becomes
InvalidCommand (3), the code Iggy answers for any body that does not decode, so handlers
never see bytes that do not parse. ``Writer`` builds reply bodies.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sandbox.errors import Code, IggyError

Identifier = int | str

U8 = struct.Struct("<B")
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
F32 = struct.Struct("<f")

UNDECODABLE = Code.INVALID_COMMAND

CONSUMER_SINGLE = 1
CONSUMER_GROUP = 2
ACK_LEVELS = (0, 1)  # an offset write's last byte: NoAck, Quorum

# Polling strategy kinds
OFFSET, TIMESTAMP, FIRST, LAST, NEXT = 1, 2, 3, 4, 5
STRATEGY_NAMES = {OFFSET: "offset", TIMESTAMP: "timestamp", FIRST: "first", LAST: "last",
                  NEXT: "next"}

# Partitioning kinds
BALANCED, PARTITION_ID, MESSAGES_KEY = 1, 2, 3

# TLV value kinds (user headers and options blocks)
RAW, STRING, BOOL, UINT32, UINT64 = 1, 2, 3, 11, 12
TLV_FIXED_SIZES = {3: 1, 4: 1, 5: 2, 6: 4, 7: 8, 8: 16, 9: 1, 10: 2, 11: 4, 12: 8, 13: 16,
                   14: 4, 15: 8}


@dataclass(frozen=True, slots=True)
class ConsumerRef:
    """Who polls or stores an offset: a single consumer or a consumer group."""

    kind: int
    id: Identifier


@dataclass(frozen=True, slots=True)
class Strategy:
    kind: int
    value: int


@dataclass(frozen=True, slots=True)
class PartitioningRef:
    kind: int
    value: bytes


class Reader:
    """Sequential decoder over one request body."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | memoryview, pos: int = 0):
        self.buf = memoryview(buf)
        self.pos = pos

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise IggyError(UNDECODABLE)
        view = self.buf[self.pos:self.pos + n]
        self.pos += n
        return view

    def _unpack(self, s: struct.Struct) -> int:
        if self.pos + s.size > len(self.buf):
            raise IggyError(UNDECODABLE)
        (value,) = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return value

    def u8(self) -> int:
        pos = self.pos
        if pos >= len(self.buf):
            raise IggyError(UNDECODABLE)
        self.pos = pos + 1
        return self.buf[pos]

    def u32(self) -> int:
        return self._unpack(U32)

    def u64(self) -> int:
        return self._unpack(U64)

    def raw(self, n: int) -> bytes:
        return bytes(self._take(n))

    def rest(self) -> memoryview:
        return self._take(self.remaining())

    def end(self) -> None:
        """Trailing bytes mean the frame is not what the command expects."""
        if self.remaining():
            raise IggyError(UNDECODABLE)

    def name(self) -> str:
        """``[u8 len][UTF-8]`` with len 1..255."""
        length = self.u8()
        if length == 0:
            raise IggyError(UNDECODABLE)
        return self.text(length)

    def text(self, length: int) -> str:
        try:
            return bytes(self._take(length)).decode("utf-8")
        except UnicodeDecodeError:
            raise IggyError(UNDECODABLE) from None

    def small_bytes(self) -> bytes:
        """``[u8 len][bytes]`` (passwords, tokens)."""
        return self.raw(self.u8())

    def identifier(self) -> Identifier:
        """``[u8 kind][u8 len][value]``: kind 1 a u32 (len 4), kind 2 a UTF-8 name (len > 0).
        Read in place: every request names a stream and a topic this way."""
        buf, pos = self.buf, self.pos
        if pos + 2 > len(buf):
            raise IggyError(UNDECODABLE)
        kind, length = buf[pos], buf[pos + 1]
        pos += 2
        if pos + length > len(buf) or (length != 4 if kind == 1 else kind != 2 or length == 0):
            raise IggyError(UNDECODABLE)
        self.pos = pos + length
        if kind == 1:
            return U32.unpack_from(buf, pos)[0]
        try:
            return str(buf[pos:pos + length], "utf-8")
        except UnicodeDecodeError:
            raise IggyError(UNDECODABLE) from None

    def consumer(self) -> ConsumerRef:
        kind = self.u8()
        if kind not in (CONSUMER_SINGLE, CONSUMER_GROUP):
            raise IggyError(UNDECODABLE)
        return ConsumerRef(kind, self.identifier())

    def optional_partition(self) -> int | None:
        has = self.u8()
        value = self.u32()
        return value if has else None

    def ack_level(self) -> int:
        """The byte that ends an offset write: 0 (leader only) or 1 (quorum); a single
        node treats both alike, but anything else, or no byte, does not decode."""
        level = self.u8()
        if level not in ACK_LEVELS:
            raise IggyError(UNDECODABLE)
        return level

    def strategy(self) -> Strategy:
        kind = self.u8()
        value = self.u64()
        if kind not in STRATEGY_NAMES:
            raise IggyError(UNDECODABLE)
        return Strategy(kind, value)

    def partitioning(self) -> PartitioningRef:
        kind = self.u8()
        length = self.u8()
        value = self.raw(length)
        if kind == BALANCED and length == 0:
            return PartitioningRef(kind, value)
        if kind == PARTITION_ID and length == 4:
            return PartitioningRef(kind, value)
        if kind == MESSAGES_KEY and 1 <= length <= 255:
            return PartitioningRef(kind, value)
        raise IggyError(UNDECODABLE)

    def options(self) -> dict[str, tuple[int, bytes]]:
        """An options TLV block running to the end of the body: ``{key: (kind, value)}``."""
        return decode_options(self.rest(), UNDECODABLE)


def decode_tlv(block: bytes | memoryview,
               error: Code = Code.INVALID_FORMAT) -> list[tuple[int, bytes]]:
    """Split a TLV block into ``(kind, value)`` entries; a bad block raises ``error``."""
    entries = []
    reader = Reader(block)
    try:
        while reader.remaining():
            kind = reader.u8()
            length = reader.u32()
            if kind == 0 or kind > 15 or not 1 <= length <= 255:
                raise IggyError(error)
            fixed = TLV_FIXED_SIZES.get(kind)
            if fixed is not None and fixed != length:
                raise IggyError(error)
            entries.append((kind, reader.raw(length)))
    except IggyError:
        raise IggyError(error) from None
    if len(entries) % 2:
        raise IggyError(error)
    return entries


def decode_options(block: bytes | memoryview,
                   error: Code = Code.INVALID_FORMAT) -> dict[str, tuple[int, bytes]]:
    """An options block as ``{key: (kind, value)}``: String keys, each once."""
    entries = decode_tlv(block, error)
    options: dict[str, tuple[int, bytes]] = {}
    for (key_kind, key), value in zip(entries[::2], entries[1::2], strict=True):
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError:
            raise IggyError(error) from None
        if key_kind != STRING or name in options:
            raise IggyError(error)
        options[name] = value
    return options


def encode_options(options: dict[str, tuple[int, bytes]]) -> bytes:
    """TLV of String keys, sorted, as the real server writes them (no length prefix)."""
    out = bytearray()
    for key in sorted(options):
        kind, value = options[key]
        raw_key = key.encode()
        out += U8.pack(STRING) + U32.pack(len(raw_key)) + raw_key
        out += U8.pack(kind) + U32.pack(len(value)) + value
    return bytes(out)


class Writer:
    """Builds a reply body."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def u8(self, v: int) -> Writer:
        self.buf += U8.pack(v)
        return self

    def u16(self, v: int) -> Writer:
        self.buf += U16.pack(v)
        return self

    def u32(self, v: int) -> Writer:
        self.buf += U32.pack(v)
        return self

    def u64(self, v: int) -> Writer:
        self.buf += U64.pack(v)
        return self

    def f32(self, v: float) -> Writer:
        self.buf += F32.pack(v)
        return self

    def raw(self, b: bytes | bytearray | memoryview) -> Writer:
        self.buf += b
        return self

    def name(self, s: str) -> Writer:
        data = s.encode()
        self.buf += U8.pack(len(data)) + data
        return self

    def long_text(self, s: str) -> Writer:
        data = s.encode()
        self.buf += U32.pack(len(data)) + data
        return self

    def options(self, options: dict[str, tuple[int, bytes]]) -> Writer:
        """A reply options block: ``u32 length`` + TLV."""
        block = encode_options(options)
        self.buf += U32.pack(len(block)) + block
        return self

    def bytes(self) -> bytes:
        return bytes(self.buf)
