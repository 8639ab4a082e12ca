"""Consumer offsets: get, store, delete (for single consumers and groups)."""

from __future__ import annotations

import struct

from sandbox.commands.registry import Context, command, partition_request_head
from sandbox.wire.codec import Reader

_OFFSET_REPLY = struct.Struct("<IQQ")


def _target(body: Reader) -> tuple:
    return body.consumer(), body.identifier(), body.identifier(), body.optional_partition()


@command(120, "get consumer offset")
def get_consumer_offset(ctx: Context, body: Reader) -> bytes:
    found = ctx.system.get_consumer_offset(ctx.user, *_target(body))
    return _OFFSET_REPLY.pack(*found) if found else b""


@command(121, "store consumer offset", operation=161)
def store_consumer_offset(ctx: Context, body: Reader) -> bytes:
    with partition_request_head:
        target = _target(body)
        offset = body.u64()
        body.ack_level()
    ctx.system.store_consumer_offset(ctx.session, ctx.user, *target, offset)
    return b""


@command(122, "delete consumer offset", operation=162)
def delete_consumer_offset(ctx: Context, body: Reader) -> bytes:
    with partition_request_head:
        target = _target(body)
        body.ack_level()
    ctx.system.delete_consumer_offset(ctx.session, ctx.user, *target)
    return b""
