"""A partition's log: append-only segments of stored batches, with an in-memory index.

On disk a partition is a folder of ``<base offset, 20 digits>.log`` files. Each file is a
plain concatenation of batches as the server stamped them (see ``sandbox.wire.messages``);
there is no separate index file, because the batch headers are the index: opening a log
reads each header once and keeps compact arrays per segment (base offset, message count,
file position, append timestamp, and the size its frames share when that is known).

Recovery (ZODB's rule): a batch that does not fit or does not check out at the end of the
newest segment is a torn tail from a crash. It is copied aside to ``<segment>.torn-<time>``
and cut, with a log line. The same fault anywhere else is corruption, and the server refuses
to start rather than drop data silently.
"""

from __future__ import annotations

import bisect
import logging
import time
from array import array
from pathlib import Path

from sandbox.storage.blobs import FileBlob, MemoryBlob
from sandbox.wire import messages as wire

log = logging.getLogger("sandbox.storage")

_HEADER_PEEK = 52  # bytes of a batch header that hold every field the index needs
_LAYOUTS_KEPT = 64  # frame layouts of recently cut batches, per partition


class CorruptLog(RuntimeError):
    """Damage that is not a torn tail; the message names the file and what to do."""


class Segment:
    """One file of consecutive batches and its index."""

    def __init__(self, base_offset: int, blob: FileBlob | MemoryBlob):
        self.base_offset = base_offset
        self.blob = blob
        self.offsets = array("Q")
        self.counts = array("I")
        self.positions = array("Q")
        self.timestamps = array("Q")
        # the size every frame of a batch has, when the send checked that; 0 when the frames
        # differ or were not compared (small batches, and every batch after a restart)
        self.strides = array("I")
        self.sealed = False

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def end_offset(self) -> int:
        """The offset after this segment's last message."""
        if not self.offsets:
            return self.base_offset
        return self.offsets[-1] + self.counts[-1]

    @property
    def last_timestamp(self) -> int:
        return self.timestamps[-1] if self.timestamps else 0

    def index_batch(self, base_offset: int, count: int, position: int, timestamp: int,
                    stride: int = 0) -> None:
        self.offsets.append(base_offset)
        self.counts.append(count)
        self.positions.append(position)
        self.timestamps.append(timestamp)
        self.strides.append(stride)

    def batch_bytes(self, i: int) -> bytes:
        start = self.positions[i]
        end = self.positions[i + 1] if i + 1 < len(self.positions) else self.blob.size
        return self.blob.read(start, end - start)


class PartitionLog:
    """Append, read by offset or timestamp, rotate, and drop whole sealed segments."""

    def __init__(self, directory: Path | None, segment_size: int, partition_id: int = 0):
        self.directory = directory
        self.segment_size = segment_size
        self.partition_id = partition_id
        self.segments: list[Segment] = []
        self._layouts: dict[tuple[Segment, int], tuple[bytes, wire.FrameLayout]] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._recover()

    # ----------------------------------------------------------------- counters
    @property
    def next_offset(self) -> int:
        return self.segments[-1].end_offset if self.segments else 0

    @property
    def first_offset(self) -> int:
        return self.segments[0].base_offset if self.segments else 0

    @property
    def messages_count(self) -> int:
        return self.next_offset - self.first_offset

    @property
    def current_offset(self) -> int:
        """The last message's offset, 0 when the partition is empty (Iggy's convention)."""
        return max(self.next_offset - 1, 0)

    @property
    def last_timestamp(self) -> int:
        """When the newest batch was appended (µs), 0 when there is none: appends never go
        back in time, even across a rotation that left the active segment empty."""
        return next((s.last_timestamp for s in reversed(self.segments) if s.offsets), 0)

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self.segments)

    @property
    def segments_count(self) -> int:
        return max(len(self.segments), 1)

    # ----------------------------------------------------------------- writing
    def append(self, header: bytes, frames: bytes | memoryview, count: int, timestamp: int,
               stride: int = 0) -> None:
        """Write one batch, its stamped header and its frames; it is durable against a
        process crash on return. ``stride`` is the size all its frames share, when the send
        checked that.

        The batch that reaches the segment size lands whole, then the segment is sealed and
        an empty one opened at once, as Iggy rotates: the newest segment is always the
        active one, and only the segments before it can be retired.
        """
        segment = self._active_segment()
        position = segment.blob.append(header, frames)
        segment.index_batch(self.next_offset, count, position, timestamp, stride)
        if segment.size >= self.segment_size:
            segment.sealed = True
            self._active_segment()

    def _active_segment(self) -> Segment:
        """The newest segment, opening one when there is none or it is sealed (a log
        recovered with a full newest segment rotates on its next append)."""
        if not self.segments or self.segments[-1].sealed:
            base = self.next_offset
            self.segments.append(Segment(base, self._new_blob(base)))
        return self.segments[-1]

    def _new_blob(self, base_offset: int) -> FileBlob | MemoryBlob:
        if self.directory is None:
            return MemoryBlob()
        return FileBlob(self.directory / f"{base_offset:020d}.log")

    # ----------------------------------------------------------------- reading
    def read(self, start: int, count: int) -> list[bytes]:
        """Batches holding offsets ``start .. start+count-1`` (partial batches trimmed)."""
        start = max(start, self.first_offset)
        end = min(start + count, self.next_offset)  # exclusive
        chunks: list[bytes] = []
        if start >= end:
            return chunks
        for segment in self.segments[self._segment_at(start):]:
            if segment.base_offset >= end:
                break
            i = max(bisect.bisect_right(segment.offsets, start) - 1, 0)
            while i < len(segment.offsets) and segment.offsets[i] < end:
                base, n = segment.offsets[i], segment.counts[i]
                lo, hi = max(start - base, 0), min(end - base, n)
                chunks.append(segment.batch_bytes(i) if lo == 0 and hi == n
                              else self._cut(segment, i, lo, hi))
                i += 1
        return chunks

    def end_within(self, start: int, end: int, max_bytes: int) -> int:
        """Where a read from ``start`` towards ``end`` (exclusive) stops so that its whole
        batches add up to at most ``max_bytes``; the batch holding ``start`` always counts."""
        budget, taken = max_bytes, False
        for segment in self.segments[self._segment_at(start):]:
            if segment.base_offset >= end:
                break
            offsets, positions = segment.offsets, segment.positions
            first = max(bisect.bisect_right(offsets, start) - 1, 0)
            stop = bisect.bisect_left(offsets, end)  # batches first .. stop-1 overlap the read
            top = positions[stop] if stop < len(positions) else segment.size
            if top - positions[first] <= budget:
                budget -= top - positions[first]
                taken = True
                continue
            # the first batch that does not fit ends past positions[first] + budget
            misfit = bisect.bisect_right(positions, positions[first] + budget, first + 1,
                                         stop) - 1
            if misfit > first:
                return offsets[misfit]
            return offsets[first] if taken else min(offsets[first] + segment.counts[first], end)
        return end

    def _segment_at(self, offset: int) -> int:
        """Index of the segment holding ``offset`` (0 before the first)."""
        segments = self.segments
        if segments and offset >= segments[-1].base_offset:  # the usual: the newest data
            return len(segments) - 1
        return max(bisect.bisect_right([s.base_offset for s in segments], offset) - 1, 0)

    def _cut(self, segment: Segment, i: int, lo: int, hi: int) -> bytes:
        """Frames ``lo..hi-1`` of batch ``i``, re-sealed; only those frames are read."""
        head, layout = self._layout(segment, i)
        start, length = layout.span(lo, hi)
        frames = segment.blob.read(segment.positions[i] + wire.BATCH_HEADER_SIZE + start, length)
        return wire.reseal(head, frames, hi - lo, layout.checksums(frames, lo, hi))

    def _layout(self, segment: Segment, i: int) -> tuple[bytes, wire.FrameLayout]:
        """Batch ``i``'s header fields and frame layout, kept for the most recently cut
        batches (a consumer polling a few messages at a time cuts the same batch again and
        again). A batch whose frames the send found to share one size needs only its header
        read; any other is read whole once to learn where its frames lie."""
        key = (segment, i)
        known = self._layouts.pop(key, None)
        if known is None:
            if segment.strides[i]:
                head = segment.blob.read(segment.positions[i], _HEADER_PEEK)
                known = (head, wire.FrameLayout(segment.strides[i]))
            else:
                data = segment.batch_bytes(i)
                known = (data[:_HEADER_PEEK], wire.frame_layout(data, segment.counts[i]))
            if len(self._layouts) >= _LAYOUTS_KEPT:
                del self._layouts[next(iter(self._layouts))]
        self._layouts[key] = known  # (re)inserted last: the dict's order is the LRU order
        return known

    def offset_for_timestamp(self, timestamp: int) -> int:
        """The first offset of the first batch appended at or after ``timestamp``."""
        for segment in self.segments:
            if segment.last_timestamp < timestamp:
                continue
            i = bisect.bisect_left(segment.timestamps, timestamp)
            if i < len(segment.offsets):
                return segment.offsets[i]
        return self.next_offset

    # ----------------------------------------------------------------- retention
    def retirable(self) -> list[Segment]:
        """The sealed segments before the active one, oldest first: all that retention or
        DeleteSegments may ever remove. Every segment but the newest is sealed: a new one is
        only opened once the one before it is sealed, and a restart seals all but the last."""
        return self.segments[:-1]

    def retire_oldest(self, count: int) -> int:
        """Delete the ``count`` oldest segments, which must be retirable; returns the bytes
        freed. The active segment stays, so its file name keeps the offsets going."""
        retirable = len(self.retirable())
        if count > retirable:
            raise ValueError(f"only {retirable} segment(s) can be retired, not {count}")
        victims = self.segments[:count]
        freed = sum(segment.size for segment in victims)
        del self.segments[:count]
        for segment in victims:
            segment.blob.delete()
        return freed

    def purge(self) -> None:
        """Remove every message; offsets start again at 0."""
        for segment in self.segments:
            segment.blob.delete()
        self.segments.clear()
        self._layouts.clear()

    def close(self) -> None:
        for segment in self.segments:
            segment.blob.close()

    # ----------------------------------------------------------------- recovery
    def _recover(self) -> None:
        files = sorted(self.directory.glob("*.log"))
        for n, path in enumerate(files):
            try:
                base = int(path.stem)
            except ValueError:
                raise CorruptLog(f"{path}: unexpected file in a partition folder; move it "
                                 "away and start again") from None
            segment = Segment(base, FileBlob(path))
            self._scan(segment, newest=(n == len(files) - 1))
            segment.sealed = n < len(files) - 1 or segment.size >= self.segment_size
            if self.segments and segment.base_offset != self.segments[-1].end_offset:
                raise CorruptLog(f"{path}: starts at offset {base} but the previous segment "
                                 f"ends at {self.segments[-1].end_offset}; the log has a gap")
            self.segments.append(segment)

    def _scan(self, segment: Segment, newest: bool) -> None:
        blob = segment.blob
        position, expected = 0, segment.base_offset
        while position < blob.size:
            problem = self._check_batch(blob, position, expected)
            if problem is None:
                head = blob.read(position, _HEADER_PEEK)
                _, base, ts, _, length, _, count = wire.read_header(head)
                segment.index_batch(base, count, position, ts)
                position += length
                expected = base + count
                continue
            if not newest:
                raise CorruptLog(
                    f"{blob.path}: {problem} at byte {position} of a sealed segment. This is "
                    "not a torn tail from a crash; the server will not start rather than drop "
                    "data. Restore the file from a backup, or move the partition folder away.")
            self._cut_tail(blob, position, problem)
            return

    def _check_batch(self, blob: FileBlob, position: int, expected: int) -> str | None:
        if blob.size - position < wire.BATCH_HEADER_SIZE:
            return "a partial batch header"
        head = blob.read(position, _HEADER_PEEK)
        _, base, _, _, length, _, count = wire.read_header(head)
        if base != expected or count == 0:
            return f"a batch header for offset {base} where {expected} was expected"
        if length < wire.BATCH_HEADER_SIZE or position + length > blob.size:
            return "a batch longer than the file"
        if position + length == blob.size and not wire.verify_stored(blob.read(position, length)):
            return "a last batch whose checksum does not match"
        return None

    @staticmethod
    def _cut_tail(blob: FileBlob, position: int, problem: str) -> None:
        aside = blob.path.with_name(f"{blob.path.name}.torn-{int(time.time())}")
        aside.write_bytes(blob.read(position, blob.size - position))
        log.warning("%s: cut a torn tail of %d bytes at byte %d (%s); the bytes are kept in %s",
                    blob.path, blob.size - position, position, problem, aside.name)
        blob.truncate(position)
