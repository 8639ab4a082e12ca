"""Topics: get, list, create, update, delete, purge."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer


@command(300, "get topic")
def get_topic(ctx: Context, body: Reader) -> bytes:
    topic = ctx.system.get_topic(ctx.user, body.identifier(), body.identifier())
    return records.topic_details(Writer(), topic).bytes() if topic else b""


@command(301, "get topics")
def get_topics(ctx: Context, body: Reader) -> bytes:
    topics = ctx.system.get_topics(ctx.user, body.identifier())
    w = Writer().u32(len(topics))
    for topic in topics:
        records.topic_header(w, topic)
    return w.bytes()


@command(302, "create topic", operation=132)
def create_topic(ctx: Context, body: Reader) -> bytes:
    stream = body.identifier()
    partitions_count = body.u32()
    name = body.name()
    topic = ctx.system.create_topic(ctx.user, stream, name, partitions_count, body.options())
    return records.topic_details(Writer(), topic).bytes()


@command(304, "update topic", operation=133)
def update_topic(ctx: Context, body: Reader) -> bytes:
    stream, topic = body.identifier(), body.identifier()
    name = body.name()
    ctx.system.update_topic(ctx.user, stream, topic, name, body.options())
    return b""


@command(303, "delete topic", operation=134)
def delete_topic(ctx: Context, body: Reader) -> bytes:
    ctx.system.delete_topic(ctx.user, body.identifier(), body.identifier())
    return b""


@command(305, "purge topic", operation=135)
def purge_topic(ctx: Context, body: Reader) -> bytes:
    ctx.system.purge_topic(ctx.user, body.identifier(), body.identifier())
    return b""
