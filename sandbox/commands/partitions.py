"""Partitions and segments: add, remove, delete segments."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.wire.codec import Reader


@command(402, "create partitions", operation=136)
def create_partitions(ctx: Context, body: Reader) -> bytes:
    stream, topic = body.identifier(), body.identifier()
    ctx.system.create_partitions(ctx.user, stream, topic, body.u32())
    return b""


@command(403, "delete partitions", operation=137)
def delete_partitions(ctx: Context, body: Reader) -> bytes:
    stream, topic = body.identifier(), body.identifier()
    ctx.system.delete_partitions(ctx.user, stream, topic, body.u32())
    return b""


@command(503, "delete segments", operation=138)
def delete_segments(ctx: Context, body: Reader) -> bytes:
    stream, topic = ctx.system.resolve(body.identifier(), body.identifier())
    perm.manage_topic(ctx.user, stream.id, topic.id)
    partition = ctx.system.partition(topic, body.u32())
    count = body.u32()
    if count == 0:
        raise IggyError(Code.INVALID_SEGMENTS_COUNT, count)
    for _ in range(count):
        if not partition.log.drop_oldest_segment():
            break
    return b""
