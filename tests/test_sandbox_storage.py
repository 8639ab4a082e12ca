"""The partition log and the offset files on their own: offsets stay continuous through
retention and restarts, reads that start or end inside a batch keep every message's offset,
and stored consumer offsets always reach the file that is there."""

from __future__ import annotations

import shutil
import struct

from sandbox.http.batches import Outgoing, build_batch, read_batch
from sandbox.storage.offsets import OffsetFiles
from sandbox.storage.segments import PartitionLog
from sandbox.wire import messages as wire


def append(log: PartitionLog, payloads: list[bytes], timestamp: int = 1_000) -> int:
    """Accept, stamp and append one batch as the server does; returns its base offset."""
    batch = build_batch([Outgoing(i + 1, p, b"") for i, p in enumerate(payloads)], timestamp)
    view = memoryview(batch)
    sums, stride = wire.accept_batch(view, len(payloads))
    base = log.next_offset
    header = wire.stamped_header(view, sums, log.partition_id, base, timestamp)
    log.append(header, view[wire.BATCH_HEADER_SIZE:], len(payloads), timestamp, stride)
    return base


def test_offsets_continue_after_retention_empties_the_log_and_a_restart(tmp_path):
    log = PartitionLog(tmp_path, segment_size=1)  # every batch seals its segment
    append(log, [b"a", b"b"])
    append(log, [b"c"])
    assert [s.sealed for s in log.segments] == [True, True, False]  # an active one opens
    assert log.retire_oldest(2) > 0
    assert (log.messages_count, log.next_offset, log.segments_count) == (0, 3, 1)
    log.close()

    reopened = PartitionLog(tmp_path, segment_size=1)
    assert (reopened.first_offset, reopened.next_offset) == (3, 3)
    assert append(reopened, [b"d"]) == 3
    reopened.close()


def test_a_read_inside_a_batch_keeps_offsets_and_reseals_the_batch(tmp_path):
    log = PartitionLog(tmp_path, segment_size=1 << 20)
    append(log, [b"m0", b"m1", b"m2", b"m3"])
    append(log, [b"m4", b"m5"])
    chunks = log.read(2, 3)
    got = [(m.offset, m.payload) for chunk in chunks for m in read_batch(chunk)]
    for chunk in chunks:  # each trimmed batch carries a batch checksum that matches it
        pid, base, base_ts, origin, length, checksum, count = wire.read_header(chunk)
        sums = struct.pack(f"<{count}Q", *[m.checksum for m in read_batch(chunk)])
        assert length == len(chunk)
        assert checksum == wire.batch_checksum((pid, base, base_ts, origin, length), count, sums)
    assert got == [(2, b"m2"), (3, b"m3"), (4, b"m4")]
    assert log.read(6, 10) == []
    log.close()


def expected_cut(full: bytes, lo: int, hi: int) -> bytes:
    """Messages ``lo..hi-1`` of a stored batch as Iggy serves them, built independently of
    the log: the same frames, the same base offset and timestamps, a new length, count and
    batch checksum."""
    sizes = [wire.FRAME_HEADER_SIZE + len(m.payload) + len(m.user_headers)
             for m in read_batch(full)]
    start = wire.BATCH_HEADER_SIZE + sum(sizes[:lo])
    frames = full[start:start + sum(sizes[lo:hi])]
    sums = b"".join(full[wire.BATCH_HEADER_SIZE + sum(sizes[:i]):][:8] for i in range(lo, hi))
    pid, base, base_ts, origin, _, _, _ = wire.read_header(full)
    length = wire.BATCH_HEADER_SIZE + len(frames)
    checksum = wire.batch_checksum((pid, base, base_ts, origin, length), hi - lo, sums)
    header = wire.BATCH_FIELDS.pack(pid, base, base_ts, origin, length, checksum, hi - lo)
    return header + bytes(wire.BATCH_HEADER_SIZE - len(header)) + frames


def test_every_cut_of_a_batch_is_byte_for_byte_what_iggy_serves(tmp_path):
    """Frames of one size (cut by stride) or of many sizes (cut by offsets), few or many,
    read once and again (the second time from the layout the log keeps), before a restart
    (the stride known from the send) and after it (the layout learned from the file)."""
    log = PartitionLog(tmp_path, segment_size=1 << 20)
    batches = {"uniform": [b"u" * 20] * 40, "few": [b"f" * 7] * 5,
               "mixed": [b"m" * (1 + i * 37 % 300) for i in range(40)]}
    bases = {name: append(log, payloads) for name, payloads in batches.items()}
    assert [stride for s in log.segments for stride in s.strides] == [68, 0, 0]
    for reopen in (False, True):
        if reopen:
            log.close()
            log = PartitionLog(tmp_path, segment_size=1 << 20)
        for name, payloads in batches.items():
            base, n = bases[name], len(payloads)
            [full] = log.read(base, n)
            for lo in range(n):
                for hi in (lo + 1, (lo + n + 1) // 2, n):
                    if hi > lo and (lo, hi) != (0, n):
                        for _ in range(2):
                            assert log.read(base + lo, hi - lo) == [expected_cut(full, lo, hi)]
    log.close()


def test_a_cut_after_a_purge_reads_the_new_batch_not_a_remembered_layout(tmp_path):
    log = PartitionLog(tmp_path, segment_size=1 << 20)
    append(log, [b"old" * 30] * 40)
    assert [m.payload for m in read_batch(log.read(5, 1)[0])] == [b"old" * 30]
    log.purge()
    append(log, [b"new-and-longer" * 9] * 40)  # same offsets, other frame sizes
    [cut] = log.read(5, 1)
    assert [(m.offset, m.payload) for m in read_batch(cut)] == [(5, b"new-and-longer" * 9)]
    log.close()


def test_stored_offsets_land_in_the_file_of_the_day_through_deletes_purges_and_re_creation(
        tmp_path):
    """Offset files are kept open between stores; deleting, clearing or re-creating a
    partition's folder must never leave a store writing into a file that is gone."""
    folder = tmp_path / "offsets"
    files = OffsetFiles(folder)
    files.store(1, 7, 10)
    files.delete(1, 7)
    files.store(1, 7, 11)
    assert OffsetFiles(folder).load() == {(1, 7): 11}
    files.clear()
    files.store(2, 3, 12)
    assert OffsetFiles(folder).load() == {(2, 3): 12}
    files.close()
    shutil.rmtree(folder)  # the partition is deleted and made again at the same place
    again = OffsetFiles(folder)
    again.store(2, 3, 13)
    assert OffsetFiles(folder).load() == {(2, 3): 13}
    many = {(1, key): key * 10 for key in range(100)}  # more files than are kept open
    for (kind, key), offset in many.items():
        again.store(kind, key, offset)
        again.store(kind, key, offset + 1)
    assert OffsetFiles(folder).load() == {**{k: v + 1 for k, v in many.items()}, (2, 3): 13}
    again.close()
