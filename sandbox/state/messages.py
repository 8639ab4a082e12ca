"""Sending, polling and consumer offsets."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import xxhash

from sandbox.errors import AnsweredAsNotFound, Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state.groups import find_group, member_of
from sandbox.state.model import Partition, Session, Topic, User, now_micros
from sandbox.storage.offsets import KIND_NAMES
from sandbox.wire import messages as wire
from sandbox.wire.codec import (
    BALANCED,
    CONSUMER_GROUP,
    FIRST,
    LAST,
    MESSAGES_KEY,
    NEXT,
    OFFSET,
    TIMESTAMP,
    ConsumerRef,
    Identifier,
    PartitioningRef,
    Strategy,
)

RESYNC_PARTITION = 0xFFFFFFFF  # tells the SDK to re-sync its group assignment
# A poll returns at most this many bytes of messages (at least one batch): a poll of a
# million messages gets the first ones and the consumer asks again, as it does anyway.
MAX_POLL_BYTES = 16 * 1024 * 1024

# What Iggy's partition plane answers for a target it cannot resolve, whatever is missing.
UNRESOLVED = frozenset({Code.STREAM_ID_NOT_FOUND, Code.TOPIC_ID_NOT_FOUND,
                        Code.PARTITION_NOT_FOUND, Code.NO_PARTITIONS,
                        Code.CONSUMER_GROUP_ID_NOT_FOUND})


# Sends and offset writes: a target that does not resolve is ResourceNotFound.
_partition_plane = AnsweredAsNotFound(UNRESOLVED)


@dataclass(slots=True)
class Polled:
    partition_id: int
    current_offset: int
    count: int
    batches: list[bytes]


def consumer_key(consumer: ConsumerRef) -> int:
    """Numeric ids are used as they are; names are hashed as Iggy does (XXH32, seed 0)."""
    if isinstance(consumer.id, int):
        return consumer.id
    return xxhash.xxh32_intdigest(consumer.id.encode())


class MessagesMixin:
    """Mixed into ``System``."""

    def choose_partition(self, topic: Topic, partitioning: PartitioningRef) -> Partition:
        if not topic.partitions:
            raise IggyError(Code.NO_PARTITIONS, topic.id, topic.stream_id)
        if partitioning.kind == BALANCED:
            ids = sorted(topic.partitions)
            partition_id = ids[topic.balanced_counter % len(ids)]
            topic.balanced_counter += 1
        elif partitioning.kind == MESSAGES_KEY:
            ids = sorted(topic.partitions)
            partition_id = ids[xxhash.xxh32_intdigest(partitioning.value) % len(ids)]
        else:  # what the SDK always sends: it picks balanced and keyed partitions itself
            (partition_id,) = struct.unpack("<I", partitioning.value)
        return self.partition(topic, partition_id)

    def send_messages(self, user: User, stream_ident: Identifier, topic_ident: Identifier,
                      partitioning: PartitioningRef, batch: memoryview,
                      count: int) -> tuple[int, int, int, int]:
        """Store one batch; returns (stream id, topic id, partition id, base offset)."""
        with _partition_plane:  # the permission check raises Unauthorized, never translated
            stream, topic = self.resolve(stream_ident, topic_ident)
            perm.send_messages(user, stream.id, topic.id)
            partition = self.choose_partition(topic, partitioning)
        sums, stride = wire.accept_batch(batch, count)
        base_offset = partition.log.next_offset
        timestamp = max(now_micros(), partition.log.last_timestamp)
        header = wire.stamped_header(batch, sums, partition.id, base_offset, timestamp)
        try:
            if self.space is not None:
                self.space.claim(len(batch))
            partition.log.append(header, batch[wire.BATCH_HEADER_SIZE:], count, timestamp,
                                 stride)
        except OSError as error:
            raise self.refusals.refuse(
                Code.CANNOT_SAVE_MESSAGES_TO_SEGMENT, f"a send of {count} message(s) to stream "
                f"{stream.id}, topic {topic.id}, partition {partition.id}", error) from None
        self.refusals.accepted()
        self.counters["written_bytes"] += len(batch)
        return stream.id, topic.id, partition.id, base_offset

    def poll_messages(self, session: Session, user: User, consumer: ConsumerRef,
                      stream_ident: Identifier, topic_ident: Identifier,
                      partition_id: int | None, strategy: Strategy, count: int,
                      auto_commit: bool) -> Polled:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.poll_messages(user, stream.id, topic.id)
        if consumer.kind == CONSUMER_GROUP:
            group = find_group(topic, consumer.id)
            if partition_id is None:
                return Polled(0, 0, 0, [])
            if group is None:
                return Polled(RESYNC_PARTITION, 0, 0, [])
            try:
                self.owned_partition(session, topic, group, partition_id)
            except IggyError:
                return Polled(RESYNC_PARTITION, 0, 0, [])
            key = (CONSUMER_GROUP, group.id)
        else:
            partition_id = 0 if partition_id is None else partition_id
            key = (consumer.kind, consumer_key(consumer))
        partition = self.partition(topic, partition_id)
        log = partition.log
        start = self._start_offset(partition, key, strategy, count)
        start = max(start, log.first_offset)
        end = min(start + count, log.next_offset)
        if count == 0 or start >= end:
            return Polled(partition.id, log.current_offset, 0, [])
        end = log.end_within(start, end, MAX_POLL_BYTES)
        batches = log.read(start, end - start)
        self.counters["read_bytes"] += sum(map(len, batches))
        last = end - 1
        if consumer.kind == CONSUMER_GROUP:
            partition.polled[key[1]] = max(partition.polled.get(key[1], -1), last)
        if auto_commit and partition.offsets.get(key, -1) < last:
            self._store_offset(topic, partition, key, last, auto_commit=True)
        return Polled(partition.id, log.current_offset, end - start, batches)

    @staticmethod
    def _start_offset(partition: Partition, key: tuple[int, int], strategy: Strategy,
                      count: int) -> int:
        log = partition.log
        if strategy.kind == OFFSET:
            return strategy.value
        if strategy.kind == TIMESTAMP:
            return log.offset_for_timestamp(strategy.value)
        if strategy.kind == FIRST:
            return log.first_offset
        if strategy.kind == LAST:
            return max(log.current_offset - max(count, 1) + 1, 0)
        if strategy.kind == NEXT:
            stored = partition.offsets.get(key)
            return log.first_offset if stored is None else stored + 1
        raise IggyError(Code.INVALID_FORMAT)

    # ------------------------------------------------------------------ offsets
    def _offset_target(self, user: User, consumer: ConsumerRef, stream_ident: Identifier,
                       topic_ident: Identifier, partition_id: int | None
                       ) -> tuple[Topic, Partition, tuple[int, int]]:
        """Where a read keeps an offset; a group's offset is readable by anyone."""
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.poll_messages(user, stream.id, topic.id)
        if consumer.kind == CONSUMER_GROUP:
            group = find_group(topic, consumer.id)
            if group is None:
                raise IggyError(Code.INVALID_IDENTIFIER)
            key = (CONSUMER_GROUP, group.id)
        else:
            key = (consumer.kind, consumer_key(consumer))
        partition = self.partition(topic, 0 if partition_id is None else partition_id)
        return topic, partition, key

    def _offset_write_target(self, session: Session | None, user: User, consumer: ConsumerRef,
                             stream_ident: Identifier, topic_ident: Identifier,
                             partition_id: int | None
                             ) -> tuple[Topic, Partition, tuple[int, int]]:
        """Where a write keeps an offset. As on Iggy's partition plane, a target that does
        not resolve, or a group the writing client is not a member of, is ResourceNotFound."""
        with _partition_plane:
            stream, topic = self.resolve(stream_ident, topic_ident)
            partition = self.partition(topic, 0 if partition_id is None else partition_id)
            if consumer.kind == CONSUMER_GROUP:
                group = self.group(topic, consumer.id)
                if session is None or member_of(group, session.client_id) is None:
                    raise IggyError(Code.RESOURCE_NOT_FOUND, "")
                key = (CONSUMER_GROUP, group.id)
            else:
                key = (consumer.kind, consumer_key(consumer))
        perm.poll_messages(user, stream.id, topic.id)
        return topic, partition, key

    def get_consumer_offset(self, user: User, consumer: ConsumerRef, stream_ident: Identifier,
                            topic_ident: Identifier,
                            partition_id: int | None) -> tuple[int, int, int] | None:
        """(partition id, current offset, stored offset), or None when nothing is stored."""
        _, partition, key = self._offset_target(user, consumer, stream_ident, topic_ident,
                                                partition_id)
        stored = partition.offsets.get(key)
        if stored is None:
            return None
        return partition.id, partition.log.current_offset, stored

    def store_consumer_offset(self, session: Session | None, user: User,
                              consumer: ConsumerRef, stream_ident: Identifier,
                              topic_ident: Identifier, partition_id: int | None,
                              offset: int) -> None:
        """An empty partition takes no offset, and none may run ahead of the last message."""
        topic, partition, key = self._offset_write_target(
            session, user, consumer, stream_ident, topic_ident, partition_id)
        log = partition.log
        empty = log.messages_count == 0 and log.current_offset == 0
        if empty or offset > log.current_offset:
            raise IggyError(Code.INVALID_OFFSET, offset)
        self._store_offset(topic, partition, key, offset)

    def delete_consumer_offset(self, session: Session | None, user: User,
                               consumer: ConsumerRef, stream_ident: Identifier,
                               topic_ident: Identifier, partition_id: int | None) -> None:
        _, partition, key = self._offset_write_target(
            session, user, consumer, stream_ident, topic_ident, partition_id)
        if partition.offsets.pop(key, None) is None:
            raise IggyError(Code.CONSUMER_OFFSET_NOT_FOUND, key[1])
        partition.offset_files.delete(*key)

    def _store_offset(self, topic: Topic, partition: Partition, key: tuple[int, int],
                      offset: int, auto_commit: bool = False) -> None:
        """Write the offset, then take it. When the disk refuses, a stored offset is refused
        with CannotWriteToFile (10006); a poll's auto-commit still delivers and keeps the
        offset in memory (after a restart the consumer may see those messages again)."""
        try:
            partition.offset_files.store(key[0], key[1], offset)
        except OSError as error:
            refused = self.refusals.refuse(
                Code.CANNOT_WRITE_TO_FILE, f"{'an auto-committed' if auto_commit else 'an'} "
                f"offset of {KIND_NAMES.get(key[0], 'consumer')} {key[1]} on partition "
                f"{partition.id} of topic {topic.id}, stream {topic.stream_id}", error)
            if not auto_commit:
                raise refused from None
        partition.offsets[key] = offset
        if key[0] == CONSUMER_GROUP:
            group = topic.groups.get(key[1])
            if group is not None:
                self.group_committed(topic, group, partition.id)
