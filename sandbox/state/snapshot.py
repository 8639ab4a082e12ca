"""Turn the state into the metadata document and back (messages and offsets live apart)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sandbox.state.model import (
    ConsumerGroup,
    GlobalPermissions,
    Permissions,
    PersonalAccessToken,
    Stream,
    StreamPermissions,
    Topic,
    TopicPermissions,
    User,
)

if TYPE_CHECKING:
    from sandbox.state.system import System


def permissions_to_json(permissions: Permissions | None) -> dict | None:
    if permissions is None:
        return None
    return {"global": asdict(permissions.global_),
            "streams": None if permissions.streams is None else {
                str(sid): {**{k: v for k, v in asdict(s).items() if k != "topics"},
                           "topics": None if s.topics is None else {
                               str(tid): asdict(t) for tid, t in s.topics.items()}}
                for sid, s in permissions.streams.items()}}


def permissions_from_json(data: dict | None) -> Permissions | None:
    if data is None:
        return None
    streams = None
    if data.get("streams") is not None:
        streams = {}
        for sid, s in data["streams"].items():
            topics = s.get("topics")
            streams[int(sid)] = StreamPermissions(
                **{k: v for k, v in s.items() if k != "topics"},
                topics=None if topics is None else {
                    int(tid): TopicPermissions(**t) for tid, t in topics.items()})
    return Permissions(GlobalPermissions(**data["global"]), streams)


def capture(system: System) -> dict[str, Any]:
    return {
        "users": [{"id": u.id, "username": u.username, "password_hash": u.password_hash,
                   "created_at": u.created_at, "active": u.active,
                   "permissions": permissions_to_json(u.permissions)}
                  for u in system.users.values()],
        "tokens": [asdict(t) for t in system.tokens.values()],
        "streams": [{"id": s.id, "name": s.name, "created_at": s.created_at,
                     "topics": [_topic_to_json(t) for t in s.topics.values()]}
                    for s in system.streams.values()],
    }


def _topic_to_json(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id, "name": topic.name, "created_at": topic.created_at,
        "message_expiry": topic.message_expiry, "compression": topic.compression,
        "max_topic_size": topic.max_topic_size, "segment_size": topic.segment_size,
        "options": {k: [kind, value.hex()] for k, (kind, value) in topic.options.items()},
        "partitions": [[p.id, p.created_at, p.delete_watermark]
                       for p in topic.partitions.values()],
        "groups": [[g.id, g.name] for g in topic.groups.values()],
        "next_group_id": topic.next_group_id,
    }


def restore(system: System, document: dict[str, Any]) -> None:
    for u in document["users"]:
        system.users[u["id"]] = User(u["id"], u["username"], u["password_hash"],
                                     u["created_at"], u["active"],
                                     permissions_from_json(u["permissions"]))
    for t in document["tokens"]:
        token = PersonalAccessToken(**t)
        system.tokens[(token.user_id, token.name)] = token
    for s in document["streams"]:
        stream = Stream(s["id"], s["name"], s["created_at"])
        system.streams[stream.id] = stream
        for t in s["topics"]:
            topic = Topic(t["id"], stream.id, t["name"], t["created_at"], {},
                          t["message_expiry"], t["compression"], t["max_topic_size"],
                          t["segment_size"],
                          {k: (kind, bytes.fromhex(v)) for k, (kind, v) in t["options"].items()},
                          {gid: ConsumerGroup(gid, name) for gid, name in t["groups"]},
                          t["next_group_id"])
            stream.topics[topic.id] = topic
            for partition_id, created_at, *watermark in t["partitions"]:
                partition = system.open_partition(topic, partition_id, created_at)
                partition.delete_watermark = watermark[0] if watermark else 0
                topic.partitions[partition_id] = partition
