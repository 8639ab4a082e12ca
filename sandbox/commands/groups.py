"""Consumer groups: get, list, create, delete, join, leave, sync."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer


def _path(body: Reader) -> tuple:
    return body.identifier(), body.identifier(), body.identifier()


@command(600, "get consumer group")
def get_consumer_group(ctx: Context, body: Reader) -> bytes:
    topic, group = ctx.system.get_consumer_group(ctx.user, *_path(body))
    return records.group_details(Writer(), topic, group).bytes() if group else b""


@command(601, "get consumer groups")
def get_consumer_groups(ctx: Context, body: Reader) -> bytes:
    topic, groups = ctx.system.get_consumer_groups(ctx.user, body.identifier(), body.identifier())
    w = Writer()
    for group in groups:
        records.group_record(w, topic, group)
    return w.bytes()


@command(602, "create consumer group", operation=139)
def create_consumer_group(ctx: Context, body: Reader) -> bytes:
    stream, topic_ident = body.identifier(), body.identifier()
    name = body.name()
    topic, group = ctx.system.create_consumer_group(ctx.user, stream, topic_ident, name)
    return records.group_details(Writer(), topic, group).bytes()


@command(603, "delete consumer group", operation=140)
def delete_consumer_group(ctx: Context, body: Reader) -> bytes:
    ctx.system.delete_consumer_group(ctx.user, *_path(body))
    return b""


@command(604, "join consumer group", operation=148)
def join_consumer_group(ctx: Context, body: Reader) -> bytes:
    ctx.system.join_consumer_group(ctx.session, ctx.user, *_path(body))
    return b""


@command(605, "leave consumer group", operation=149)
def leave_consumer_group(ctx: Context, body: Reader) -> bytes:
    ctx.system.leave_consumer_group(ctx.session, ctx.user, *_path(body))
    return b""


@command(606, "sync consumer group")
def sync_consumer_group(ctx: Context, body: Reader) -> bytes:
    synced = ctx.system.sync_consumer_group(ctx.session, ctx.user, *_path(body))
    if synced is None:
        return b""
    generation, partitions = synced
    w = Writer().u64(generation).u32(len(partitions))
    for partition_id in partitions:
        w.u32(partition_id)
    return w.bytes()
