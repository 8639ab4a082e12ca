"""Bodies of the binary commands the scenarios send through ``send_binary_request``.

Two reasons to bypass the SDK's typed calls: the 0.9.0 Python SDK has none for consumer
offsets and personal access tokens, and its ``create_topic`` always sends the
``durability`` options, which a server older than the 0.9.0 release refuses (the topics
scenario records that call once; the others create topics with this plain body instead).
"""

from __future__ import annotations

import struct
from typing import Any

from tests.wire_session import identifier, name

CREATE_TOPIC = 302
GET_PERSONAL_ACCESS_TOKENS, CREATE_PERSONAL_ACCESS_TOKEN, DELETE_PERSONAL_ACCESS_TOKEN = 41, 42, 43
GET_CONSUMER_OFFSET, STORE_CONSUMER_OFFSET, DELETE_CONSUMER_OFFSET = 120, 121, 122
DELETE_SEGMENTS = 503
SEND_MESSAGES = 101
# A send whose head (stream, topic, partitioning) is three bytes that are none of these
UNDECODABLE_SEND_HEAD = struct.pack("<I", 3) + b"\x09\x09\x09"
SINGLE, GROUP = 1, 2  # consumer kinds
_STRING, _UINT64 = 2, 12  # TLV kinds
_ACK_QUORUM = 1  # the acknowledgement byte the SDK sends with offset writes
ACK_LEADER_ONLY, ACK_UNKNOWN = b"\x00", b"\x02"  # the other level, and no level at all
_OFFSET_REPLY = struct.Struct("<IQQ")


def create_topic(stream: int | str, topic: str, partitions: int, **options: int | str) -> bytes:
    """CreateTopic: numbers as Uint64 options, text as String options."""
    block = b"".join(_tlv(_STRING, key.encode()) + (
        _tlv(_UINT64, struct.pack("<Q", value)) if isinstance(value, int)
        else _tlv(_STRING, value.encode())) for key, value in options.items())
    return identifier(stream) + struct.pack("<I", partitions) + name(topic) + block


def offset_target(kind: int, consumer: int | str, stream: int | str, topic: int | str,
                  partition: int | None) -> bytes:
    """Consumer, stream, topic and optional partition: the head of every offset command."""
    head = bytes([kind]) + identifier(consumer) + identifier(stream) + identifier(topic)
    return head + struct.pack("<BI", partition is not None, partition or 0)


def store_offset(offset: int, ack: bytes = bytes([_ACK_QUORUM])) -> bytes:
    """The offset and the acknowledgement byte (``ack=b""`` leaves it out)."""
    return struct.pack("<Q", offset) + ack


def delete_offset(ack: bytes = bytes([_ACK_QUORUM])) -> bytes:
    return ack


def delete_segments(stream: int | str, topic: int | str, partition: int, count: int) -> bytes:
    return identifier(stream) + identifier(topic) + struct.pack("<II", partition, count)


def offset_reply(reply: bytes) -> dict[str, int] | None:
    if not reply:
        return None
    partition_id, current_offset, stored_offset = _OFFSET_REPLY.unpack(reply)
    return {"partition_id": partition_id, "current_offset": current_offset,
            "stored_offset": stored_offset}


def create_token(token_name: str, expiry_micros: int) -> bytes:
    return name(token_name) + struct.pack("<Q", expiry_micros)


def delete_token(token_name: str) -> bytes:
    return name(token_name)


def token_reply(reply: bytes) -> dict[str, str]:
    return {"token": reply[1:1 + reply[0]].decode()}


def tokens_reply(reply: bytes) -> list[dict[str, Any]]:
    tokens, position = [], 0
    while position < len(reply):
        length = reply[position]
        token_name = reply[position + 1:position + 1 + length].decode()
        (expiry_at,) = struct.unpack_from("<Q", reply, position + 1 + length)
        tokens.append({"name": token_name, "expiry_at": expiry_at or None})
        position += 1 + length + 8
    return tokens


def created(reply: bytes) -> str:
    """A create's reply carries the new object with its creation time: only say it worked."""
    return "created"


def _tlv(kind: int, raw: bytes) -> bytes:
    return struct.pack("<BI", kind, len(raw)) + raw
