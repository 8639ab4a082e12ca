"""Messages as JSON: the send body the SDK posts and the PolledMessages it reads.

Payloads travel base64-encoded. User headers are a list of
``{"key": {"kind": "string", "value": "<base64>"}, "value": {"kind": "uint32", ...}}``
(or, both ways, one base64 string of the raw TLV). A message sent with id 0 gets a random
UUID, as the real server does for HTTP producers.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import struct
from typing import Any

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.http.batches import Outgoing, read_batch
from sandbox.http.errors import compact_json
from sandbox.http.jsonbody import (
    AnyValues,
    Base64,
    Decoder,
    JsonRejection,
    Struct,
    Variant,
    json_body,
    required,
)
from sandbox.http.jsonshapes import KIND_NAMES, b64
from sandbox.state.messages import Polled
from sandbox.wire.codec import BALANCED, MESSAGES_KEY, PARTITION_ID, PartitioningRef, decode_tlv

U64_MAX, U128_MAX = 2**64 - 1, 2**128 - 1
# In a UUID's 16 bytes read little-endian, the version nibble sits at bits 52..55 and the
# variant's two bits at 70..71: version 4, variant RFC 4122
_UUID_V4_SET = 0x4 << 52 | 0x2 << 70
_UUID_V4_CLEAR = U128_MAX ^ (0xF << 52 | 0x3 << 70)
PARTITIONING_KINDS = {"balanced": BALANCED, "partition_id": PARTITION_ID,
                      "messages_key": MESSAGES_KEY}
KIND_CODES = {name: code for code, name in KIND_NAMES.items()}
_TLV_ENTRY = struct.Struct("<BI")


# Strict base64 (alphabet and padding checked): in C from Python 3.11, a regex before that
try:
    _strict_b64decode = functools.partial(binascii.a2b_base64, strict_mode=True)
    _strict_b64decode(b"")
except TypeError:
    _strict_b64decode = functools.partial(base64.b64decode, validate=True)


# ---------------------------------------------------------------------------- send
PARTITIONING = Struct("Partitioning", (
    required("kind", Variant("PartitioningKind", tuple(PARTITIONING_KINDS))),
    required("value", Base64())))
SEND_MESSAGES = Struct("SendMessages", ())  # read by hand below; named for type errors


async def read_send(request: web.Request) -> tuple[PartitioningRef, list[Outgoing]]:
    """The body of a send, read as Iggy's ``SendMessages`` deserializer reads it: the
    messages are taken as plain JSON first, then each one is checked, and those errors
    name no field and point just past the ``messages`` array."""
    return decode_send(await json_body(request))


def decode_send(raw: bytes) -> tuple[PartitioningRef, list[Outgoing]]:
    decoder = Decoder(raw)
    if decoder.peek() != ord("{"):
        kind, value = SEND_MESSAGES.scalar(decoder)
        raise SEND_MESSAGES.refuse(decoder, kind, value)
    found: dict[str, Any] = {}

    def check_key(key: str) -> None:
        if key not in ("partitioning", "messages"):
            raise decoder.key_error(
                key, f"unknown field `{key}`, expected `partitioning` or `messages`")
        if key in found:
            raise decoder.data(f"duplicate field `{key}`")

    def read_value(key: str) -> Any:
        reader = PARTITIONING if key == "partitioning" else AnyValues()
        return reader.read(decoder)

    for key, value in decoder.entries(read_value, check_key):
        found[key] = _outgoing(decoder, value) if key == "messages" else value
    for key in ("partitioning", "messages"):
        if key not in found:
            raise decoder.data(f"missing field `{key}`")
    decoder.end()
    return _partitioning(found["partitioning"]), found["messages"]


def _partitioning(value: dict[str, Any]) -> PartitioningRef:
    """Iggy checks the value's length (at most 255 bytes, none only when balanced), then a
    partition id that is not 4 bytes fails to encode as InvalidCommand."""
    kind, raw = PARTITIONING_KINDS[value["kind"]], value["value"]
    if len(raw) > 255 or (kind != BALANCED and not raw):
        raise IggyError(Code.INVALID_KEY_VALUE_LENGTH)
    if kind == PARTITION_ID and len(raw) != 4:
        raise IggyError(Code.INVALID_COMMAND)
    return PartitioningRef(kind, b"" if kind == BALANCED else raw)


def _outgoing(decoder: Decoder, items: list[Any]) -> list[Outgoing]:
    fields = []
    for item in items:
        found = item if isinstance(item, dict) else {}
        message_id = found.get("id")
        if type(message_id) is not int or not 0 <= message_id <= U64_MAX:  # SDKs send 0
            message_id = _message_id(decoder, message_id)
        payload = found.get("payload")
        if not isinstance(payload, str):
            raise _refuse(decoder, "missing field `payload`")
        try:
            data = _strict_b64decode(payload)
        except (binascii.Error, ValueError):
            raise _refuse(decoder, "Invalid base64 payload") from None
        headers = _headers(decoder, found.get("user_headers"))
        if not data:
            built = "Failed to create message with headers" if headers else (
                "Failed to create message")
            raise _refuse(decoder, f"{built}: Invalid message payload length")
        fields.append((message_id, data, headers))
    fresh = iter(random_ids(sum(1 for message_id, _, _ in fields if not message_id)))
    return [Outgoing(message_id or next(fresh), data, headers)
            for message_id, data, headers in fields]


def random_ids(count: int) -> list[int]:
    """Iggy's ids for messages sent with id 0: version-4 UUIDs read as little-endian
    u128s (``Uuid::new_v4().to_u128_le()``), drawn in bulk."""
    raw = os.urandom(16 * count)
    return [int.from_bytes(raw[i:i + 16], "little") & _UUID_V4_CLEAR | _UUID_V4_SET
            for i in range(0, len(raw), 16)]


def _message_id(decoder: Decoder, value: Any) -> int:
    """A u128: a number, a decimal string or a UUID; absent or 0 → the server picks one."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 or value > U64_MAX:
            raise _refuse(decoder, "Invalid message ID: ID must be a positive integer")
        return value
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and int(value) <= U128_MAX:
            return int(value)
        digits = value.replace("-", "")
        if len(digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return int(digits, 16)
        raise _refuse(decoder, f"Invalid message ID: Invalid ID string: '{value}' - must be a "
                           "decimal number or UUID hex format")
    raise _refuse(decoder, "Invalid message ID: ID must be a number or string")


def _headers(decoder: Decoder, value: Any) -> bytes:
    """The TLV bytes for a message's user headers (sorted by key, one value per key), from
    a list of ``{"key": {...}, "value": {...}}`` or one base64 string of raw TLV."""
    if value is None:
        return b""
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise _refuse(decoder, f"Invalid base64 headers: {error}") from None
    try:
        entries = {_header_field(entry["key"]): _header_field(entry["value"])
                   for entry in value}
        block = b"".join(_TLV_ENTRY.pack(kind, len(raw)) + raw
                         for key, val in sorted(entries.items()) for kind, raw in (key, val))
        decode_tlv(block)  # lengths and fixed sizes as Iggy checks them
    except (TypeError, KeyError, ValueError, IggyError) as error:
        raise _refuse(decoder, f"Invalid headers format: {error}") from None
    return block


def _refuse(decoder: Decoder, message: str) -> JsonRejection:
    """An error of Iggy's own message checks: no field named, placed past the object."""
    return decoder.data(message, decoder.after_struct())


def _header_field(value: Any) -> tuple[int, bytes]:
    kind = value["kind"]
    if kind not in KIND_CODES:
        raise ValueError(f"unknown header kind {kind!r}")
    return KIND_CODES[kind], base64.b64decode(value["value"], validate=True)


# ---------------------------------------------------------------------------- poll
_POLLED = '{"partition_id":%d,"current_offset":%d,"count":%d,"messages":[%s]}'
_MESSAGE = ('{"header":{"checksum":%d,"id":%d,"offset":%d,"timestamp":%d,'
            '"origin_timestamp":%d,"user_headers_length":%d,"payload_length":%d,'
            '"reserved":%d},"payload":"%s","user_headers":%s}')


def polled_text(polled: Polled) -> str:
    """The poll as JSON: ``{"partition_id", "current_offset", "count", "messages": [{"header":
    {...}, "payload": base64, "user_headers": ...}]}``, character for character what
    ``json_reply`` writes of it (serde_json's compact form), but filled into a template,
    since a poll can carry thousands of messages."""
    messages = [_MESSAGE % (m.checksum, m.id, m.offset, m.timestamp, m.origin_timestamp,
                            len(m.user_headers), len(m.payload), m.reserved, b64(m.payload),
                            compact_json(user_headers_json(m.user_headers)) if m.user_headers
                            else "[]")
                for batch in polled.batches for m in read_batch(batch)]
    return _POLLED % (polled.partition_id, polled.current_offset, len(messages),
                      ",".join(messages))


def user_headers_json(block: bytes) -> list[dict] | str:
    """The list form when the TLV parses, else the raw bytes as one base64 string."""
    try:
        entries = decode_tlv(block)
    except IggyError:
        return b64(block)
    fields = [{"kind": KIND_NAMES[kind], "value": b64(raw)} for kind, raw in entries]
    return [{"key": key, "value": value} for key, value in zip(fields[::2], fields[1::2],
                                                                 strict=True)]
