"""Messages as JSON: the send body the SDK posts and the PolledMessages it reads.

Payloads travel base64-encoded. User headers are a list of
``{"key": {"kind": "string", "value": "<base64>"}, "value": {"kind": "uint32", ...}}``
(or, both ways, one base64 string of the raw TLV). A message sent with id 0 gets a random
UUID, as the real server does for HTTP producers.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
from typing import Any

from sandbox.errors import Code, IggyError
from sandbox.http.batches import Outgoing, Stored, read_batch
from sandbox.http.jsonshapes import KIND_NAMES, b64
from sandbox.http.params import bad
from sandbox.state.messages import Polled
from sandbox.wire.codec import BALANCED, MESSAGES_KEY, PARTITION_ID, PartitioningRef, decode_tlv

U128_MAX = 2**128 - 1
PARTITIONING_KINDS = {"balanced": BALANCED, "partition_id": PARTITION_ID,
                      "messages_key": MESSAGES_KEY}
KIND_CODES = {name: code for code, name in KIND_NAMES.items()}
_TLV_ENTRY = struct.Struct("<BI")


def base64_field(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise bad(field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(field) from None


# ---------------------------------------------------------------------------- send
def partitioning(value: Any) -> PartitioningRef:
    """``{"kind": "balanced"|"partition_id"|"messages_key", "value": "<base64>"}``."""
    if not isinstance(value, dict) or value.get("kind") not in PARTITIONING_KINDS:
        raise bad("partitioning")
    kind = PARTITIONING_KINDS[value["kind"]]
    raw = base64_field(value.get("value") or "", "partitioning")
    fits = {BALANCED: len(raw) == 0, PARTITION_ID: len(raw) == 4,
            MESSAGES_KEY: 1 <= len(raw) <= 255}[kind]
    if not fits:
        raise bad("partitioning", Code.INVALID_KEY_VALUE_LENGTH)
    return PartitioningRef(kind, raw)


def outgoing_messages(value: Any) -> list[Outgoing]:
    if not isinstance(value, list):
        raise bad("messages")
    messages = []
    for item in value:
        if not isinstance(item, dict):
            raise bad("messages")
        messages.append(Outgoing(message_id(item.get("id")),
                                 base64_field(item.get("payload"), "payload"),
                                 user_headers_block(item.get("user_headers"))))
    return messages


def message_id(value: Any) -> int:
    """A u128 as a number, a decimal string or a UUID; absent or 0 → a random UUID."""
    if value is None:
        number = 0
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = uuid.UUID(value).int
        except ValueError:
            raise bad("id") from None
    else:
        raise bad("id")
    if not 0 <= number <= U128_MAX:
        raise bad("id")
    # Iggy's random id is a UUID v4 whose bytes are read little-endian (Uuid::to_u128_le),
    # as the SDK makes them
    return number or int.from_bytes(uuid.uuid4().bytes, "little")


def user_headers_block(value: Any) -> bytes:
    """The TLV bytes for a message's user headers (sorted by key, one value per key)."""
    if value is None:
        return b""
    if isinstance(value, str):
        return base64_field(value, "user_headers")
    if not isinstance(value, list):
        raise bad("user_headers")
    entries = {}
    for entry in value:
        if not isinstance(entry, dict):
            raise bad("user_headers")
        entries[_header_field(entry.get("key"))] = _header_field(entry.get("value"))
    block = b"".join(_TLV_ENTRY.pack(kind, len(raw)) + raw
                     for key, val in sorted(entries.items()) for kind, raw in (key, val))
    decode_tlv(block)  # lengths and fixed sizes as Iggy checks them
    return block


def _header_field(value: Any) -> tuple[int, bytes]:
    if not isinstance(value, dict):
        raise bad("user_headers")
    kind = value.get("kind")
    if kind not in KIND_CODES:
        raise IggyError(Code.INVALID_HEADER_KIND, kind, field="user_headers")
    return KIND_CODES[kind], base64_field(value.get("value"), "user_headers")


# ---------------------------------------------------------------------------- poll
def polled_json(polled: Polled) -> dict:
    messages = [message_json(m) for batch in polled.batches for m in read_batch(batch)]
    return {"partition_id": polled.partition_id, "current_offset": polled.current_offset,
            "count": len(messages), "messages": messages}


def message_json(message: Stored) -> dict:
    return {
        "header": {"checksum": message.checksum, "id": message.id, "offset": message.offset,
                   "timestamp": message.timestamp,
                   "origin_timestamp": message.origin_timestamp,
                   "user_headers_length": len(message.user_headers),
                   "payload_length": len(message.payload), "reserved": message.reserved},
        "payload": b64(message.payload),
        "user_headers": user_headers_json(message.user_headers),
    }


def user_headers_json(block: bytes) -> list[dict] | str:
    """The list form when the TLV parses, else the raw bytes as one base64 string."""
    try:
        entries = decode_tlv(block)
    except IggyError:
        return b64(block)
    fields = [{"kind": KIND_NAMES[kind], "value": b64(raw)} for kind, raw in entries]
    return [{"key": key, "value": value} for key, value in zip(fields[::2], fields[1::2],
                                                                 strict=True)]
