"""The partition log on its own: offsets stay continuous through retention and restarts,
and reads that start or end inside a batch keep every message's offset."""

from __future__ import annotations

import struct

from sandbox.http.batches import Outgoing, build_batch, read_batch
from sandbox.storage.segments import PartitionLog
from sandbox.wire import messages as wire


def append(log: PartitionLog, payloads: list[bytes], timestamp: int = 1_000) -> int:
    """Accept, stamp and append one batch as the server does; returns its base offset."""
    batch = build_batch([Outgoing(i + 1, p, b"") for i, p in enumerate(payloads)], timestamp)
    stored, sums = wire.accept_batch(memoryview(batch), len(payloads))
    base = log.next_offset
    wire.stamp(stored, sums, log.partition_id, base, timestamp)
    log.append(stored, len(payloads), timestamp)
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
