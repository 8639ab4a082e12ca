"""Send and poll: the hot path. Batches are stored and served as bytes, never decoded into
objects (see ``sandbox.wire.messages``)."""

from __future__ import annotations

import struct

from sandbox.commands.registry import Context, command, partition_request_head
from sandbox.errors import IggyError
from sandbox.wire.codec import UNDECODABLE, Reader

POLL_MESSAGES = 100
_CONFIRMATION = struct.Struct("<IIIIQ")
_POLL_HEAD = struct.Struct("<IQI")


@command(101, "send messages", operation=160)
def send_messages(ctx: Context, body: Reader) -> bytes:
    with partition_request_head:
        metadata_length = body.u32()
        start = body.pos
        stream, topic = body.identifier(), body.identifier()
        partitioning = body.partitioning()
        count = body.u32()
        if body.pos - start != metadata_length:
            raise IggyError(UNDECODABLE)
    stream_id, topic_id, partition_id, base_offset = ctx.system.send_messages(
        ctx.user, stream, topic, partitioning, body.rest(), count)
    return _CONFIRMATION.pack(1, stream_id, topic_id, partition_id, base_offset)


@command(POLL_MESSAGES, "poll messages")
def poll_messages(ctx: Context, body: Reader) -> list[bytes]:
    consumer = body.consumer()
    stream, topic = body.identifier(), body.identifier()
    partition_id = body.optional_partition()
    strategy = body.strategy()
    count = body.u32()
    auto_commit = bool(body.u8())
    polled = ctx.system.poll_messages(ctx.session, ctx.user, consumer, stream, topic,
                                      partition_id, strategy, count, auto_commit)
    head = _POLL_HEAD.pack(polled.partition_id, polled.current_offset, polled.count)
    return [head, *polled.batches]
