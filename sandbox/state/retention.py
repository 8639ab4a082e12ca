"""Which sealed segments retention may delete, with Iggy 0.9's rules.

A pass over one partition works out how far the log may be trimmed (the leading sealed
segments that are expired, or that keep the partition's sealed bytes over its budget),
then removes segments oldest first until one of these stops it:

- the active (newest) segment, which is never removed and never counted;
- the consumer barrier: a segment that ends past the lowest offset any consumer or
  consumer group stored on the partition stays, because that consumer has not yet read it;
- the budget of 16 segments per pass; the cleaner runs passes until nothing more may go.

``max_topic_size`` is a budget per partition: the cap divided by the partition count, but
never below one sealed segment at its largest (segment size + the maximum message size),
so a small cap keeps the newest sealed segment of each partition rather than none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sandbox.state.model import U64_MAX, Partition, Topic
from sandbox.storage.segments import PartitionLog, Segment

log = logging.getLogger("sandbox")

REMOVAL_BUDGET_PER_PASS = 16
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024  # Iggy's [message_bus] max_message_size


@dataclass(frozen=True, slots=True)
class Removal:
    """What one pass over a partition deleted, and whether the budget left work behind."""

    segments: int = 0
    messages: int = 0
    more: bool = False


def partition_budget(topic: Topic, max_message_size: int) -> int | None:
    """Bytes of sealed segments each partition may keep, or None for no size cap."""
    if topic.max_topic_size in (0, U64_MAX):
        return None
    share = topic.max_topic_size // max(len(topic.partitions), 1)
    return max(share, topic.segment_size + max_message_size)


def barrier(partition: Partition) -> int | None:
    """The lowest offset stored by any consumer or group on the partition (None: none)."""
    return min(partition.offsets.values(), default=None)


def expired_end(partition_log: PartitionLog, now: int, expiry: int) -> int | None:
    """End offset (exclusive) of the leading run of expired sealed segments."""
    end = None
    if expiry:
        for segment in partition_log.retirable():
            if segment.last_timestamp == 0 or segment.last_timestamp + expiry > now:
                break
            end = segment.end_offset
    return end


def oversized_end(partition_log: PartitionLog, max_bytes: int | None) -> int | None:
    """End offset (exclusive) of the oldest sealed segments to drop so that the sealed
    bytes fit ``max_bytes``; the active segment's bytes do not count."""
    if max_bytes is None:
        return None
    retirable = partition_log.retirable()
    resident = sum(s.size for s in partition_log.segments[:-1])
    end = None
    for segment in retirable:
        if resident <= max_bytes:
            break
        resident -= segment.size
        end = segment.end_offset
    return end


def remove_up_to(partition: Partition, end: int) -> Removal:
    """Remove the oldest sealed segments that end at or before ``end`` (exclusive), at most
    REMOVAL_BUDGET_PER_PASS of them, stopping at the consumer barrier."""
    lowest_stored = barrier(partition)
    removable: list[Segment] = []
    for segment in partition.log.retirable()[:REMOVAL_BUDGET_PER_PASS + 1]:
        if segment.end_offset > end:
            break
        if lowest_stored is not None and segment.end_offset - 1 > lowest_stored:
            log.info("partition %d: segment %d..%d retained: a consumer stored offset %d "
                     "and has not read it yet", partition.id, segment.base_offset,
                     segment.end_offset - 1, lowest_stored)
            break
        removable.append(segment)
    more = len(removable) > REMOVAL_BUDGET_PER_PASS
    removable = removable[:REMOVAL_BUDGET_PER_PASS]
    partition.log.retire_oldest(len(removable))
    messages = sum(s.end_offset - s.base_offset for s in removable)
    return Removal(len(removable), messages, more)


def enforce_delete_watermark(partition: Partition) -> int:
    """Remove what DeleteSegments asked for and the barrier now allows; returns how many
    segments went. What the barrier holds back stays asked for, as on Iggy."""
    removed = 0
    removal = Removal(more=partition.log.first_offset < partition.delete_watermark)
    while removal.more:
        removal = remove_up_to(partition, partition.delete_watermark)
        removed += removal.segments
    return removed


def clean_partition(partition: Partition, now: int, expiry: int,
                    max_bytes: int | None) -> Removal:
    """One cleaner pass over a partition: expiry and the size budget together."""
    ends = [e for e in (expired_end(partition.log, now, expiry),
                        oversized_end(partition.log, max_bytes)) if e is not None]
    if not ends:
        return Removal()
    return remove_up_to(partition, max(ends))
