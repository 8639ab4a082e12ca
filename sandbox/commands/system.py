"""Ping, stats, cluster metadata, option catalogs and client listings."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state.topic_options import derived_topic_options
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer

OPTION_DESCRIPTIONS = {
    "compression_algorithm": "Compression applied to the topic's messages (none or gzip).",
    "consumer_offset_durability": "How stored consumer offsets are made durable.",
    "durability": "How appended messages are made durable (replicated or persisted).",
    "max_topic_size": "Upper bound of the topic's size in bytes; oldest segments go first.",
    "message_expiry": "How long messages are kept, in microseconds.",
    "messages_required_to_save": "Messages buffered before a flush to disk.",
    "preallocate_segments": "Whether segment files reserve their size when created.",
    "segment_size": "Size in bytes at which a partition starts a new segment.",
    "size_of_messages_required_to_save": "Bytes buffered before a flush to disk.",
}


@command(1, "ping", needs_login=False)
def ping(ctx: Context, body: Reader) -> bytes:
    return b""


@command(10, "stats")
def get_stats(ctx: Context, body: Reader) -> bytes:
    perm.read_servers(ctx.user)
    return records.stats_record(Writer(), ctx.system.stats()).bytes()


@command(11, "snapshot")
def get_snapshot(ctx: Context, body: Reader) -> bytes:
    raise IggyError(Code.FEATURE_UNAVAILABLE)


@command(12, "cluster metadata")
def get_cluster_metadata(ctx: Context, body: Reader) -> bytes:
    node = ctx.system.cluster_node()
    w = Writer().long_text(node["cluster"]).u32(1).long_text(node["name"]).long_text(node["ip"])
    w.u16(node["tcp"]).u16(node["quic"]).u16(node["http"]).u16(node["websocket"])
    return w.u8(0).u8(0).bytes()  # leader, healthy


@command(13, "describe options")
def describe_options(ctx: Context, body: Reader) -> bytes:
    scope = body.u8()
    if scope not in (1, 2, 3):
        raise IggyError(Code.INVALID_FORMAT)
    w = Writer()
    if scope != 1:
        return w.u32(0).bytes()
    defaults = derived_topic_options({})
    w.u32(len(defaults))
    for key in sorted(defaults):
        kind, value = defaults[key]
        w.name(key).u8(kind).u32(len(value)).raw(value).long_text(OPTION_DESCRIPTIONS[key])
    return w.bytes()


@command(20, "get me")
def get_me(ctx: Context, body: Reader) -> bytes:
    return records.client_details(Writer(), ctx.session).bytes()


@command(21, "get client")
def get_client(ctx: Context, body: Reader) -> bytes:
    session = ctx.system.get_client(ctx.user, body.u32())
    return records.client_details(Writer(), session).bytes() if session else b""


@command(22, "get clients")
def get_clients(ctx: Context, body: Reader) -> bytes:
    w = Writer()
    for session in ctx.system.get_clients(ctx.user):
        records.client_record(w, session)
    return w.bytes()


@command(102, "flush unsaved buffer")
def flush(ctx: Context, body: Reader) -> bytes:
    # every append is already written through to the file
    return b""

