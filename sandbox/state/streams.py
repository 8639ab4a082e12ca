"""Streams, topics and partitions: create, find, change, purge and delete."""

from __future__ import annotations

import shutil

from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state import retention, topic_options
from sandbox.state.model import (
    DEFAULT_SEGMENT_SIZE,
    U64_MAX,
    Partition,
    Stream,
    Topic,
    User,
    now_micros,
)
from sandbox.storage.offsets import OffsetFiles
from sandbox.storage.segments import PartitionLog
from sandbox.wire.codec import Identifier

MAX_PARTITIONS_PER_REQUEST = 1000
MAX_PARTITION_IDS = 1_000_000  # partition ids of one topic stay below this, as in Iggy
MAX_STREAMS = 2**20
MAX_TOPICS_PER_STREAM = 4096  # topic ids of one stream stay below this, as in Iggy
MAX_NAME_BYTES = 255


def check_name(name: str, code: Code) -> str:
    if not isinstance(name, str) or not 1 <= len(name.encode()) <= MAX_NAME_BYTES:
        raise IggyError(code)
    return name


def lowest_free_id(used: object) -> int:
    candidate = 0
    while candidate in used:
        candidate += 1
    return candidate


class StreamsMixin:
    """Mixed into ``System``; relies on its ``streams``, paths and ``save``."""

    # ------------------------------------------------------------------ lookups
    def find_stream(self, ident: Identifier) -> Stream | None:
        if isinstance(ident, int):
            return self.streams.get(ident)
        for stream in self.streams.values():  # a plain loop: every request names one
            if stream.name == ident:
                return stream
        return None

    def stream(self, ident: Identifier) -> Stream:
        found = self.find_stream(ident)
        if found is None:
            raise IggyError(Code.STREAM_ID_NOT_FOUND, ident, field="stream_id")
        return found

    @staticmethod
    def find_topic(stream: Stream, ident: Identifier) -> Topic | None:
        if isinstance(ident, int):
            return stream.topics.get(ident)
        for topic in stream.topics.values():
            if topic.name == ident:
                return topic
        return None

    def topic(self, stream: Stream, ident: Identifier) -> Topic:
        found = self.find_topic(stream, ident)
        if found is None:
            raise IggyError(Code.TOPIC_ID_NOT_FOUND, ident, stream.id, field="topic_id")
        return found

    @staticmethod
    def partition(topic: Topic, partition_id: int) -> Partition:
        found = topic.partitions.get(partition_id)
        if found is None:
            raise IggyError(Code.PARTITION_NOT_FOUND, partition_id, topic.id, topic.stream_id,
                            field="partition_id")
        return found

    def resolve(self, stream_ident: Identifier, topic_ident: Identifier) -> tuple[Stream, Topic]:
        stream = self.stream(stream_ident)
        return stream, self.topic(stream, topic_ident)

    # ------------------------------------------------------------------ streams
    def get_stream(self, user: User, ident: Identifier) -> Stream | None:
        stream = self.find_stream(ident)
        if stream is not None:
            perm.read_stream(user, stream.id)
        return stream

    def get_streams(self, user: User) -> list[Stream]:
        perm.read_streams(user)
        return sorted(self.streams.values(), key=lambda s: s.id)

    def create_stream(self, user: User, name: str, options: dict | None = None) -> Stream:
        perm.create_stream(user)
        check_name(name, Code.INVALID_STREAM_NAME)
        reject_options(options)
        if any(s.name == name for s in self.streams.values()):
            raise IggyError(Code.STREAM_NAME_ALREADY_EXISTS, name, field="name")
        if len(self.streams) >= MAX_STREAMS:
            raise IggyError(Code.TOO_MANY_STREAMS)
        stream = Stream(lowest_free_id(self.streams), name, now_micros())
        self.remove_path(self.stream_path(stream.id))
        self.streams[stream.id] = stream
        self.save()
        return stream

    def update_stream(self, user: User, ident: Identifier, name: str,
                      options: dict | None = None) -> None:
        stream = self.stream(ident)
        perm.manage_stream(user, stream.id)
        check_name(name, Code.INVALID_STREAM_NAME)
        reject_options(options)
        if any(s.name == name and s.id != stream.id for s in self.streams.values()):
            raise IggyError(Code.STREAM_NAME_ALREADY_EXISTS, name, field="name")
        stream.name = name
        self.save()

    def delete_stream(self, user: User, ident: Identifier) -> None:
        stream = self.stream(ident)
        perm.manage_stream(user, stream.id)
        del self.streams[stream.id]
        self.save()
        for topic in stream.topics.values():
            self._close_topic(stream, topic)
        self.remove_path(self.stream_path(stream.id))

    def purge_stream(self, user: User, ident: Identifier) -> None:
        stream = self.stream(ident)
        perm.manage_stream(user, stream.id)
        for topic in stream.topics.values():
            self._purge_topic(topic)

    # ------------------------------------------------------------------ topics
    def get_topic(self, user: User, stream_ident: Identifier,
                  topic_ident: Identifier) -> Topic | None:
        stream = self.find_stream(stream_ident)
        if stream is None:
            return None
        topic = self.find_topic(stream, topic_ident)
        if topic is not None:
            perm.read_topic(user, stream.id, topic.id)
        return topic

    def get_topics(self, user: User, stream_ident: Identifier) -> list[Topic]:
        """A missing stream lists as empty (Iggy's legacy behaviour), not StreamIdNotFound."""
        stream = self.find_stream(stream_ident)
        if stream is None:
            return []
        perm.read_topics(user, stream.id)
        return sorted(stream.topics.values(), key=lambda t: t.id)

    def create_topic(self, user: User, stream_ident: Identifier, name: str,
                     partitions_count: int, options: dict) -> Topic:
        # Bounds first: Iggy refuses them before it looks anything up
        check_partitions_count(partitions_count, allow_zero=True)
        settings = topic_options.parse(options)
        topic_options.check_creatable(settings, partitions_count)
        stream = self.stream(stream_ident)
        perm.create_topic(user, stream.id)
        check_name(name, Code.INVALID_TOPIC_NAME)
        if any(t.name == name for t in stream.topics.values()):
            raise IggyError(Code.TOPIC_NAME_ALREADY_EXISTS, name, stream.id, field="name")
        if len(stream.topics) >= MAX_TOPICS_PER_STREAM:
            raise IggyError(Code.TOO_MANY_TOPICS)
        topic = Topic(lowest_free_id(stream.topics), stream.id, name, now_micros(), {})
        topic.segment_size = settings.get("segment_size", DEFAULT_SEGMENT_SIZE)
        apply_topic_settings(topic, settings, topic_options.canonical(options, settings))
        self.remove_path(self.topic_path(stream.id, topic.id))
        stream.topics[topic.id] = topic
        self._add_partitions(topic, partitions_count)
        self.save()
        self.disclose_unenforceable_cap(topic)
        return topic

    def update_topic(self, user: User, stream_ident: Identifier, topic_ident: Identifier,
                     name: str, options: dict) -> None:
        settings = topic_options.parse(options, topic_options.UPDATABLE_KEYS)
        stream, topic = self.resolve(stream_ident, topic_ident)
        topic_options.check_size_floor(settings, topic.segment_size)
        perm.manage_topic(user, stream.id, topic.id)
        check_name(name, Code.INVALID_TOPIC_NAME)
        if any(t.name == name and t.id != topic.id for t in stream.topics.values()):
            raise IggyError(Code.TOPIC_NAME_ALREADY_EXISTS, name, stream.id, field="name")
        topic.name = name
        # An update patches: the client's bytes are stored as sent, absent keys stay
        apply_topic_settings(topic, settings, options)
        self.save()
        if "max_topic_size" in settings:
            self.disclose_unenforceable_cap(topic)

    def delete_topic(self, user: User, stream_ident: Identifier,
                     topic_ident: Identifier) -> None:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.manage_topic(user, stream.id, topic.id)
        del stream.topics[topic.id]
        self.save()
        self._close_topic(stream, topic)
        self.remove_path(self.topic_path(stream.id, topic.id))

    def purge_topic(self, user: User, stream_ident: Identifier,
                    topic_ident: Identifier) -> None:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.manage_topic(user, stream.id, topic.id)
        self._purge_topic(topic)

    def _close_topic(self, stream: Stream, topic: Topic) -> None:
        """After a deleted topic is gone from the metadata: its members and logs let go."""
        for group in topic.groups.values():
            for member in group.members.values():
                session = self.sessions.get(member.client_id)
                if session:
                    session.groups.discard((stream.id, topic.id, group.id))
        for partition in topic.partitions.values():
            partition.close()

    @staticmethod
    def _purge_topic(topic: Topic) -> None:
        for partition in topic.partitions.values():
            partition.log.purge()
            partition.offsets.clear()
            partition.offset_files.clear()
            partition.polled.clear()
            partition.delete_watermark = 0

    # ------------------------------------------------------------------ partitions
    def create_partitions(self, user: User, stream_ident: Identifier,
                          topic_ident: Identifier, count: int) -> None:
        check_partitions_count(count, allow_zero=False)
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.manage_topic(user, stream.id, topic.id)
        if max(topic.partitions, default=-1) + count >= MAX_PARTITION_IDS:
            raise IggyError(Code.PARTITION_ID_SPACE_EXHAUSTED)
        self._add_partitions(topic, count)
        self.save()
        self.disclose_unenforceable_cap(topic)
        self.rebalance_all(topic)

    def delete_partitions(self, user: User, stream_ident: Identifier,
                          topic_ident: Identifier, count: int) -> None:
        check_partitions_count(count, allow_zero=False)
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.manage_topic(user, stream.id, topic.id)
        if count > len(topic.partitions):
            raise IggyError(Code.INVALID_PARTITIONS_COUNT)
        removed = [topic.partitions.pop(pid) for pid in sorted(topic.partitions)[-count:]]
        self.save()
        for partition in removed:
            partition.close()
            self.remove_path(self.partition_path(stream.id, topic.id, partition.id))
        self.rebalance_all(topic)

    def delete_segments(self, user: User, stream_ident: Identifier, topic_ident: Identifier,
                        partition_id: int, count: int) -> None:
        """Drop up to ``count`` of a partition's oldest sealed segments, by retention's
        rules: never the active segment, never past the consumer barrier. What the barrier
        holds back goes later, once the consumers have moved on (the cleaner checks).
        Asking for none, like asking when none is sealed, deletes nothing and succeeds."""
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.manage_topic(user, stream.id, topic.id)
        partition = self.partition(topic, partition_id)
        retirable = partition.log.retirable()[:count]
        if retirable:
            partition.delete_watermark = max(partition.delete_watermark,
                                             retirable[-1].end_offset)
            self.save()
            retention.enforce_delete_watermark(partition)

    def _add_partitions(self, topic: Topic, count: int) -> None:
        start = max(topic.partitions, default=-1) + 1
        for partition_id in range(start, start + count):
            path = self.partition_path(topic.stream_id, topic.id, partition_id)
            self.remove_path(path)
            topic.partitions[partition_id] = self.open_partition(topic, partition_id,
                                                                 now_micros())

    def open_partition(self, topic: Topic, partition_id: int, created_at: int) -> Partition:
        path = self.partition_path(topic.stream_id, topic.id, partition_id)
        log = PartitionLog(path, topic.segment_size, partition_id)
        files = OffsetFiles(path / "offsets" if path else None)
        return Partition(partition_id, created_at, log, files, files.load())

    def remove_path(self, path) -> None:
        if path is not None and path.exists():
            shutil.rmtree(path)


def reject_options(options: dict | None) -> None:
    """Streams and users have no option keys in 0.9.0: any key is refused."""
    if options:
        raise IggyError(Code.UNSUPPORTED_OPTION_KEY, next(iter(options)))


def check_partitions_count(count: int, allow_zero: bool) -> None:
    """One request adds or removes at most 1000 partitions; adding or removing none is
    refused with the same TooManyPartitions (2015) code, as Iggy does."""
    if count > MAX_PARTITIONS_PER_REQUEST or count == 0 and not allow_zero:
        raise IggyError(Code.TOO_MANY_PARTITIONS)


def apply_topic_settings(topic: Topic, settings: dict[str, object],
                         stored: dict[str, tuple[int, bytes]]) -> None:
    """Fold parsed settings into the topic's fields and record the option entries."""
    if "compression_algorithm" in settings:
        topic.compression = settings["compression_algorithm"]
    if "message_expiry" in settings:
        expiry = settings["message_expiry"]
        topic.message_expiry = 0 if expiry == U64_MAX else expiry
    if "max_topic_size" in settings:
        topic.max_topic_size = settings["max_topic_size"]
    topic.options.update(stored)
