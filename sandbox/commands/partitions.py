"""Partitions and segments: add, remove, delete segments."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
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
    stream, topic = body.identifier(), body.identifier()
    partition_id = body.u32()
    ctx.system.delete_segments(ctx.user, stream, topic, partition_id, body.u32())
    return b""
