"""The JSON shapes of Iggy 0.9's REST API, built from the state's records.

Field names and sentinels follow the SDK's serde types: timestamps in µs, byte sizes as
Iggy's human-readable strings ("69.092 KB", see ``human_byte_size``), ``max_topic_size``
in bytes, ``message_expiry`` u64::MAX = never expire (over JSON, 0 would read as "server default"),
``max_topic_size`` u64::MAX = unlimited, and resource options as
``{"key": {"value": "<text>", "explicit": bool}}``.
"""

from __future__ import annotations

import binascii
import dataclasses

from sandbox.commands.system import OPTION_DESCRIPTIONS
from sandbox.state.model import U64_MAX, ConsumerGroup, Permissions, Session, Stream, Topic, User
from sandbox.state.system import TRANSPORT_HTTP, TRANSPORT_TCP
from sandbox.state.topic_options import COMPRESSION_NAMES, derived_topic_options
from sandbox.state.units import human_byte_size
from sandbox.wire.codec import BOOL, STRING, UINT32, UINT64

# TLV kind code -> the snake_case name serde uses (user headers, option catalogs)
KIND_NAMES = {code: name for code, name in enumerate(
    ("raw", "string", "bool", "int8", "int16", "int32", "int64", "int128", "uint8", "uint16",
     "uint32", "uint64", "uint128", "float32", "float64"), start=1)}
COMPRESSION_TEXT = {code: name for name, code in COMPRESSION_NAMES.items()}
TRANSPORT_TEXT = {TRANSPORT_TCP: "TCP", TRANSPORT_HTTP: "HTTP"}


def b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


# ---------------------------------------------------------------------------- streams, topics
def stream_json(stream: Stream, details: bool = False) -> dict:
    shape = {"id": stream.id, "created_at": stream.created_at, "name": stream.name,
             "size": human_byte_size(stream.size_bytes),
             "messages_count": stream.messages_count, "topics_count": len(stream.topics)}
    if details:
        shape["topics"] = [topic_json(t) for t in sorted(stream.topics.values(),
                                                         key=lambda t: t.id)]
    shape["options"] = {}
    return shape


def topic_json(topic: Topic, details: bool = False, created: bool = False) -> dict:
    """``created``: the answer to the create itself, which Iggy builds before any
    partition has opened its first segment (so each shows 0 segments)."""
    shape = {"id": topic.id, "created_at": topic.created_at, "name": topic.name,
             "size": human_byte_size(topic.size_bytes),
             "message_expiry": topic.message_expiry or U64_MAX,
             "compression_algorithm": COMPRESSION_TEXT[topic.compression],
             "max_topic_size": topic.max_topic_size, "messages_count": topic.messages_count,
             "partitions_count": len(topic.partitions)}
    if details:
        shape["partitions"] = [
            {"id": p.id, "created_at": p.created_at,
             "segments_count": 0 if created else p.log.segments_count,
             "current_offset": p.log.current_offset,
             "size": human_byte_size(p.log.size_bytes), "messages_count": p.log.messages_count}
            for p in sorted(topic.partitions.values(), key=lambda p: p.id)]
    shape["options"] = _options_json(topic.options)
    return shape


def _options_json(explicit: dict[str, tuple[int, bytes]]) -> dict:
    derived = derived_topic_options(explicit)
    shape = {key: {"value": option_text(*value), "explicit": True}
             for key, value in explicit.items()}
    shape.update({key: {"value": option_text(*value), "explicit": False}
                  for key, value in derived.items()})
    return dict(sorted(shape.items()))


def option_text(kind: int, raw: bytes) -> str:
    """An option value in the string form Iggy shows (and accepts back on create)."""
    if kind == STRING:
        return raw.decode("utf-8", "replace")
    if kind == BOOL:
        return "true" if raw[:1] == b"\x01" else "false"
    if kind in (UINT32, UINT64):
        return str(int.from_bytes(raw, "little"))
    return b64(raw)


def option_specs_json(scope: str) -> list[dict]:
    """The option catalog of a scope: topics have one, streams and users have none."""
    if scope != "topic":
        return []
    defaults = derived_topic_options({})
    return [{"key": key, "kind": KIND_NAMES[defaults[key][0]],
             "default_value": list(defaults[key][1]), "description": description}
            for key, description in OPTION_DESCRIPTIONS.items()]


# ---------------------------------------------------------------------------- groups
def group_json(topic: Topic, group: ConsumerGroup, details: bool = False) -> dict:
    shape = {"id": group.id, "name": group.name, "partitions_count": len(topic.partitions),
             "members_count": len(group.members)}
    if details:
        shape["members"] = [
            {"id": m.id, "partitions_count": len(m.partitions), "partitions": list(m.partitions)}
            for m in sorted(group.members.values(), key=lambda m: m.id)]
    return shape


# ---------------------------------------------------------------------------- users, clients
def user_json(user: User, details: bool = False) -> dict:
    shape = {"id": user.id, "created_at": user.created_at,
             "status": "active" if user.active else "inactive", "username": user.username}
    if details:
        shape["permissions"] = permissions_json(user.permissions)
    shape["options"] = {}
    return shape


def permissions_json(permissions: Permissions | None) -> dict | None:
    """``{"global": {...}, "streams": {"<id>": {..., "topics": {"<id>": {...}}}}}``."""
    if permissions is None:
        return None
    shape = dataclasses.asdict(permissions)
    # json.dumps turns the int stream/topic keys into strings
    return {"global": shape.pop("global_"), "streams": shape["streams"]}


def identity_json(user_id: int, token: str, expiry: int) -> dict:
    return {"user_id": user_id, "access_token": {"token": token, "expiry": expiry}}


def client_json(session: Session, details: bool = False) -> dict:
    shape = {"client_id": session.client_id, "user_id": session.user_id,
             "address": session.address, "transport": TRANSPORT_TEXT[session.transport],
             "consumer_groups_count": len(session.groups)}
    if details:
        shape["consumer_groups"] = [
            {"stream_id": s, "topic_id": t, "group_id": g} for s, t, g in sorted(session.groups)]
    return shape


# Stats fields that Iggy types as byte sizes, written as human-readable strings in JSON.
STATS_BYTE_SIZES = ("memory_usage", "total_memory", "available_memory", "read_bytes",
                    "written_bytes", "messages_size_bytes", "free_disk_space",
                    "total_disk_space")


# The order Iggy's Stats serializes its fields in.
STATS_ORDER = (
    "process_id", "cpu_usage", "total_cpu_usage", "memory_usage", "total_memory",
    "available_memory", "run_time", "start_time", "read_bytes", "written_bytes",
    "messages_size_bytes", "streams_count", "topics_count", "partitions_count",
    "segments_count", "messages_count", "clients_count", "consumer_groups_count", "hostname",
    "os_name", "os_version", "kernel_version", "iggy_server_version", "iggy_server_semver",
    "cache_metrics", "threads_count", "free_disk_space", "total_disk_space")


def stats_json(stats: dict) -> dict:
    """The state's stats, plus the per-partition cache metrics the sandbox does not have."""
    sizes = {key: human_byte_size(stats[key]) for key in STATS_BYTE_SIZES if key in stats}
    merged = {**stats, **sizes, "cache_metrics": {}}
    return {key: merged[key] for key in STATS_ORDER if key in merged}
