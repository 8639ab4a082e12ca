"""Binary records the 0.9 SDK decodes: streams, topics, partitions, users, groups, clients,
stats and permissions."""

from __future__ import annotations

from sandbox.state.model import (
    U64_MAX,
    ConsumerGroup,
    GlobalPermissions,
    Permissions,
    Session,
    Stream,
    StreamPermissions,
    Topic,
    TopicPermissions,
    User,
)
from sandbox.state.topic_options import derived_topic_options
from sandbox.wire.codec import Reader, Writer

_GLOBAL_FIELDS = list(GlobalPermissions.__dataclass_fields__)
_STREAM_FIELDS = [f for f in StreamPermissions.__dataclass_fields__ if f != "topics"]
_TOPIC_FIELDS = list(TopicPermissions.__dataclass_fields__)


def stream_record(w: Writer, stream: Stream) -> Writer:
    w.u32(stream.id).u64(stream.created_at).u32(len(stream.topics))
    w.u64(stream.size_bytes).u64(stream.messages_count).name(stream.name)
    return w.options({})


def stream_details(w: Writer, stream: Stream) -> Writer:
    stream_record(w, stream)
    for topic in sorted(stream.topics.values(), key=lambda t: t.id):
        topic_header(w, topic)
    return w


def topic_header(w: Writer, topic: Topic) -> Writer:
    w.u32(topic.id).u64(topic.created_at).u32(len(topic.partitions))
    w.u64(topic.message_expiry or U64_MAX).u8(topic.compression).u64(topic.max_topic_size)
    w.u64(topic.size_bytes).u64(topic.messages_count).name(topic.name)
    return w.options(topic.options).options(derived_topic_options(topic.options))


def topic_details(w: Writer, topic: Topic) -> Writer:
    topic_header(w, topic)
    for partition in sorted(topic.partitions.values(), key=lambda p: p.id):
        log = partition.log
        w.u32(partition.id).u64(partition.created_at).u32(log.segments_count)
        w.u64(log.current_offset).u64(log.size_bytes).u64(log.messages_count)
    return w


def user_record(w: Writer, user: User) -> Writer:
    w.u32(user.id).u64(user.created_at).u8(1 if user.active else 2).name(user.username)
    return w.options({})


def user_details(w: Writer, user: User) -> Writer:
    user_record(w, user)
    if user.permissions is None:
        return w.u32(0)
    block = encode_permissions(user.permissions)
    return w.u8(1).u32(len(block)).raw(block)


def encode_permissions(permissions: Permissions) -> bytes:
    w = Writer()
    for field in _GLOBAL_FIELDS:
        w.u8(int(getattr(permissions.global_, field)))
    streams = sorted((permissions.streams or {}).items())
    w.u8(1 if streams else 0)
    for i, (stream_id, s) in enumerate(streams):
        w.u32(stream_id)
        for field in _STREAM_FIELDS:
            w.u8(int(getattr(s, field)))
        topics = sorted((s.topics or {}).items())
        w.u8(1 if topics else 0)
        for j, (topic_id, t) in enumerate(topics):
            w.u32(topic_id)
            for field in _TOPIC_FIELDS:
                w.u8(int(getattr(t, field)))
            w.u8(1 if j + 1 < len(topics) else 0)
        w.u8(1 if i + 1 < len(streams) else 0)
    return w.bytes()


def decode_permissions(r: Reader) -> Permissions:
    global_ = GlobalPermissions(*(bool(r.u8()) for _ in _GLOBAL_FIELDS))
    streams: dict[int, StreamPermissions] | None = None
    if r.u8():
        streams = {}
        while True:
            stream_id = r.u32()
            flags = [bool(r.u8()) for _ in _STREAM_FIELDS]
            topics: dict[int, TopicPermissions] | None = None
            if r.u8():
                topics = {}
                while True:
                    topic_id = r.u32()
                    topics[topic_id] = TopicPermissions(*(bool(r.u8()) for _ in _TOPIC_FIELDS))
                    if not r.u8():
                        break
            streams[stream_id] = StreamPermissions(*flags, topics=topics)
            if not r.u8():
                break
    return Permissions(global_, streams)


def group_record(w: Writer, topic: Topic, group: ConsumerGroup) -> Writer:
    return w.u32(group.id).u32(len(topic.partitions)).u32(len(group.members)).name(group.name)


def group_details(w: Writer, topic: Topic, group: ConsumerGroup) -> Writer:
    group_record(w, topic, group)
    for member in sorted(group.members.values(), key=lambda m: m.id):
        w.u32(member.id).u32(len(member.partitions))
        for partition_id in member.partitions:
            w.u32(partition_id)
    return w


def client_record(w: Writer, session: Session) -> Writer:
    w.u32(session.client_id).u32(session.user_id or 0).u8(session.transport)
    return w.long_text(session.address).u32(len(session.groups))


def client_details(w: Writer, session: Session) -> Writer:
    client_record(w, session)
    for stream_id, topic_id, group_id in sorted(session.groups):
        w.u32(stream_id).u32(topic_id).u32(group_id)
    return w


def stats_record(w: Writer, stats: dict) -> Writer:
    w.u32(stats["process_id"]).f32(stats["cpu_usage"]).f32(stats["total_cpu_usage"])
    for key in ("memory_usage", "total_memory", "available_memory", "run_time", "start_time",
                "read_bytes", "written_bytes", "messages_size_bytes"):
        w.u64(stats[key])
    for key in ("streams_count", "topics_count", "partitions_count", "segments_count"):
        w.u32(stats[key])
    w.u64(stats["messages_count"]).u32(stats["clients_count"]).u32(stats["consumer_groups_count"])
    for key in ("hostname", "os_name", "os_version", "kernel_version", "iggy_server_version"):
        w.long_text(stats[key])
    w.u32(stats["iggy_server_semver"]).u32(0)  # no cache metrics
    return w.u32(stats["threads_count"]).u64(stats["free_disk_space"]).u64(
        stats["total_disk_space"])
