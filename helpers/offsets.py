"""Read and store a consumer's offset, which the 0.9.0 Python SDK has no typed call for.

Upstream issue #3997: ``IggyClient`` stores offsets only as a side effect (``auto_commit``,
the high-level group consumer's ``store_offset``) and cannot read them back. The binary
commands GetConsumerOffset (code 120) and StoreConsumerOffset (code 121) can, through
``send_binary_request``, on the real server and the sandbox alike.
"""

from __future__ import annotations

import struct

from apache_iggy import Consumer, IggyClient

from helpers import wire

GET_CONSUMER_OFFSET = 120  # command codes
STORE_CONSUMER_OFFSET = 121
_ACK_QUORUM = 1  # the acknowledgement byte the SDK itself sends with a stored offset
_REPLY = struct.Struct("<IQQ")  # partition id, partition's current offset, stored offset


async def stored_offset(
    client: IggyClient,
    stream: str | int,
    topic: str | int,
    consumer: str | int | Consumer = "course",
    *,
    partition_id: int = 0,
) -> int | None:
    """The offset ``consumer`` stored on a partition, or None when it stored none yet.

    ``consumer`` is a name or id (a single consumer, as in ``consume``) or a
    ``Consumer.Single``/``Consumer.Group``; a group's offset is shared by its members.
    """
    reply = await _send(client, GET_CONSUMER_OFFSET, consumer, stream, topic, partition_id)
    if not reply:
        return None
    return _REPLY.unpack_from(reply)[2]


async def store_offset(
    client: IggyClient,
    stream: str | int,
    topic: str | int,
    offset: int,
    consumer: str | int | Consumer = "course",
    *,
    partition_id: int = 0,
) -> None:
    """Store ``offset`` as the last message ``consumer`` processed on a partition.

    The "commit" of at-least-once processing: call it after the work is done, and
    ``PollingStrategy.Next()`` continues at ``offset + 1``. Unlike ``auto_commit`` it can
    also move back, to read messages again.
    """
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    await _send(
        client, STORE_CONSUMER_OFFSET, consumer, stream, topic, partition_id,
        struct.pack("<QB", offset, _ACK_QUORUM),
    )


async def _send(
    client: IggyClient,
    code: int,
    who: str | int | Consumer,
    stream: str | int,
    topic: str | int,
    partition_id: int,
    tail: bytes = b"",
) -> bytes:
    """Send an offset command (consumer, stream, topic, partition, ``tail``); return the reply."""
    action = "reading" if code == GET_CONSUMER_OFFSET else "storing"
    return await wire.send(
        client,
        code,
        wire.partition_target(who, stream, topic, partition_id) + tail,
        f"{action} the offset of {wire.consumer_id(who)!r} on {stream}/{topic} partition "
        f"{partition_id}",
        hint="do the stream, topic and partition exist?",
    )
