"""Iggy's binary protocol at the byte level, for the commands the 0.9.0 SDK has no call for.

``client.send_binary_request(code, body)`` sends any command but the logins on the client's
own connection and returns the reply body (the result section, if any, removed). This
module builds the parts those bodies share, sends them (``send``: one error message for
every command) and fetches polled batches as raw bytes, which notebook 10 takes apart by
hand.
"""

from __future__ import annotations

import struct

from apache_iggy import Consumer, IggyClient

POLL_MESSAGES = 100  # command code
POLL_REPLY_HEAD = struct.Struct("<IQI")  # partition id, partition's current offset, count
_SINGLE, _GROUP = 1, 2  # consumer kinds
_BY_OFFSET = 1  # polling strategy kind


def identifier(value: str | int) -> bytes:
    """Iggy's identifier: numeric (kind 1, u32) for ints and all-digit names, as the SDK
    sends them; else a name (kind 2, 1 to 255 bytes of UTF-8)."""
    if isinstance(value, int) or value.isdigit():
        return struct.pack("<BBI", 1, 4, int(value))
    return b"\x02" + name(value)


def name(value: str) -> bytes:
    """A name on the wire (of a token, user or group): one length byte, then UTF-8."""
    encoded = value.encode()
    if not 1 <= len(encoded) <= 255:
        raise ValueError(f"a name must be 1 to 255 bytes of UTF-8, got {value!r}")
    return bytes([len(encoded)]) + encoded


def consumer_id(who: str | int | Consumer) -> str | int:
    """The name or id of a consumer given as a name, an id or a ``Consumer``."""
    return who.id if isinstance(who, Consumer) else who


def consumer(who: str | int | Consumer) -> bytes:
    """A consumer on the wire: its kind (single or group), then its identifier."""
    kind = _GROUP if isinstance(who, Consumer.Group) else _SINGLE
    return bytes([kind]) + identifier(consumer_id(who))


def partition_target(
    who: str | int | Consumer, stream: str | int, topic: str | int, partition_id: int
) -> bytes:
    """The head of a command about one consumer on one partition: the consumer, the stream,
    the topic, then the partition id (a present flag, then a u32)."""
    return (
        consumer(who)
        + identifier(stream)
        + identifier(topic)
        + struct.pack("<BI", 1, partition_id)
    )


async def send(
    client: IggyClient, code: int, body: bytes, action: str, hint: str = ""
) -> bytes:
    """Send command ``code`` with ``body`` and return the reply body. A refusal becomes
    ``RuntimeError("<action> failed: <the server's error>")``, with `` (<hint>)`` after it
    when a hint is given."""
    try:
        return await client.send_binary_request(code, body)
    except RuntimeError as error:
        message = f"{action} failed: {error}"
        if hint:
            message += f" ({hint})"
        raise RuntimeError(message) from None


async def poll_raw(
    client: IggyClient,
    stream: str | int,
    topic: str | int,
    *,
    offset: int = 0,
    count: int = 100,
    partition_id: int = 0,
    who: str | int | Consumer = "course",
) -> bytes:
    """Poll up to ``count`` messages from ``offset`` and return the reply exactly as the
    server sent it: ``POLL_REPLY_HEAD`` (16 bytes), then the stored batches, each a
    256-byte batch header followed by its message frames. Nothing is committed."""
    body = (
        partition_target(who, stream, topic, partition_id)
        + struct.pack("<BQ", _BY_OFFSET, offset)
        + struct.pack("<IB", count, 0)  # count; auto_commit off
    )
    return await send(
        client, POLL_MESSAGES, body, f"polling {stream}/{topic} partition {partition_id}"
    )
