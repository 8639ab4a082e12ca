"""Ping, stats, cluster metadata, option catalogs and client listings."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state.topic_options import derived_topic_options
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer

# The topic option catalog in Iggy's order, with Iggy's descriptions. The 0.9.0 release
# replaced ``enforce_fsync`` with the two durability policies (worded here by the sandbox).
OPTION_DESCRIPTIONS = {
    "compression_algorithm": "Compression algorithm (none, gzip)",
    "message_expiry": "Message expiry in microseconds, or a humantime string (e.g. 7 days)",
    "max_topic_size": "Topic size cap in bytes, or a byte-size string (e.g. 1 GiB); must be "
                      "at least the segment size",
    "segment_size": "Segment size in bytes, or a byte-size string (e.g. 128 MiB); a 512-byte "
                    "multiple within 1048576..=1073741824",
    "durability": "Message completion policy: replicated or persisted",
    "consumer_offset_durability": "Consumer offset completion policy: replicated or persisted",
    "messages_required_to_save": "Flush the journal once it holds this many messages; "
                                 "1..=16777216. A threshold no segment can reach leaves "
                                 "committed messages in the journal, which a crash does not "
                                 "preserve",
    "size_of_messages_required_to_save": "Flush the journal once it holds this many bytes, or "
                                         "a byte-size string; whichever threshold trips first "
                                         "flushes. At most 1073741824",
    "preallocate_segments": "Reserve each segment's bytes up front where the filesystem "
                            "supports it; pairs with segment_size. The reservation is real "
                            "disk and runs inline on the owning shard, at every rotation and "
                            "once per owned partition at boot, so segment_size * "
                            "partitions_count is capped at 68719476736 bytes",
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
    for key in OPTION_DESCRIPTIONS:
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

