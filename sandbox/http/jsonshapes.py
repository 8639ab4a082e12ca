"""The JSON shapes of Iggy 0.9's REST API, built from the state's records.

Field names and sentinels follow the SDK's serde types: timestamps in µs, sizes in bytes,
``message_expiry`` u64::MAX = never expire (over JSON, 0 would read as "server default"),
``max_topic_size`` u64::MAX = unlimited, and resource options as
``{"key": {"value": "<text>", "explicit": bool}}``.
"""

from __future__ import annotations

import base64
import dataclasses

from sandbox.commands.system import OPTION_DESCRIPTIONS
from sandbox.state.model import U64_MAX, ConsumerGroup, Permissions, Session, Stream, Topic, User
from sandbox.state.system import TRANSPORT_HTTP, TRANSPORT_TCP
from sandbox.state.topic_options import COMPRESSION_NAMES, derived_topic_options
from sandbox.wire.codec import BOOL, STRING, UINT32, UINT64

# TLV kind code -> the snake_case name serde uses (user headers, option catalogs)
KIND_NAMES = {code: name for code, name in enumerate(
    ("raw", "string", "bool", "int8", "int16", "int32", "int64", "int128", "uint8", "uint16",
     "uint32", "uint64", "uint128", "float32", "float64"), start=1)}
COMPRESSION_TEXT = {code: name for name, code in COMPRESSION_NAMES.items()}
TRANSPORT_TEXT = {TRANSPORT_TCP: "TCP", TRANSPORT_HTTP: "HTTP"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------- streams, topics
def stream_json(stream: Stream, details: bool = False) -> dict:
    shape = {"id": stream.id, "created_at": stream.created_at, "name": stream.name,
             "size": stream.size_bytes, "messages_count": stream.messages_count,
             "topics_count": len(stream.topics), "options": {}}
    if details:
        shape["topics"] = [topic_json(t) for t in sorted(stream.topics.values(),
                                                         key=lambda t: t.id)]
    return shape


def topic_json(topic: Topic, details: bool = False) -> dict:
    shape = {"id": topic.id, "created_at": topic.created_at, "name": topic.name,
             "size": topic.size_bytes, "message_expiry": topic.message_expiry or U64_MAX,
             "compression_algorithm": COMPRESSION_TEXT[topic.compression],
             "max_topic_size": topic.max_topic_size, "messages_count": topic.messages_count,
             "partitions_count": len(topic.partitions),
             "options": _options_json(topic.options)}
    if details:
        shape["partitions"] = [
            {"id": p.id, "created_at": p.created_at, "segments_count": p.log.segments_count,
             "current_offset": p.log.current_offset, "size": p.log.size_bytes,
             "messages_count": p.log.messages_count}
            for p in sorted(topic.partitions.values(), key=lambda p: p.id)]
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
    return [{"key": key, "kind": KIND_NAMES[kind], "default_value": list(value),
             "description": OPTION_DESCRIPTIONS[key]}
            for key, (kind, value) in sorted(defaults.items())]


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
             "status": "active" if user.active else "inactive", "username": user.username,
             "options": {}}
    if details:
        shape["permissions"] = permissions_json(user.permissions)
    return shape


def permissions_json(permissions: Permissions | None) -> dict | None:
    """``{"global": {...}, "streams": {"<id>": {..., "topics": {"<id>": {...}}}}}``."""
    if permissions is None:
        return None
    shape = dataclasses.asdict(permissions)
    shape["global"] = shape.pop("global_")
    return shape  # json.dumps turns the int stream/topic keys into strings


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


def stats_json(stats: dict) -> dict:
    """The state's stats, plus the per-partition cache metrics the sandbox does not have."""
    return {**stats, "cache_metrics": {}}

