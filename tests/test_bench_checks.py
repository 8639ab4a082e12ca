"""The benchmarks judge what they measure: each check here is fed a server that misbehaves
(a stub standing in for it) and must say so. Without a server."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import pytest
import xxhash

from bench import kill_restart, soak
from bench.throughput import Figures, report
from bench.workloads import TCP, WORKLOADS, Payloads, Workload, keys_for


@dataclass
class Polled:
    at: int
    data: bytes

    def offset(self) -> int:
        return self.at

    def payload(self) -> bytes:
        return self.data


class StoredLog:
    """A stand-in client that serves fixed partition contents and no stored offsets."""

    def __init__(self, partitions: dict[int, list[bytes]]):
        self.partitions = partitions

    async def poll_messages(self, *args, partition_id: int, **kwargs) -> list[Polled]:
        return [Polled(i, p) for i, p in enumerate(self.partitions.get(partition_id, []))]

    async def send_binary_request(self, code: int, payload: bytes) -> bytes:
        return b""


def verify(ledger: kill_restart.Ledger, partitions: dict[int, list[bytes]]):
    report_ = kill_restart.KillReport()
    clean = asyncio.run(kill_restart.verify(StoredLog(partitions), ledger, 2, report_))
    return clean, report_


def ledger_with(acked: list[bytes], in_flight: list[bytes] | None = None):
    ledger = kill_restart.Ledger(acked={(0, i): p for i, p in enumerate(acked)})
    ledger.in_flight = (0, in_flight) if in_flight else None
    return ledger


def test_kill_restart_accepts_the_in_flight_batch_whole_at_the_end_of_its_partition():
    clean, found = verify(ledger_with([b"a", b"b"], [b"c", b"d"]), {0: [b"a", b"b", b"c", b"d"]})
    assert clean and found.kept_in_flight == 2 and found.phantoms == 0 and found.ok


@pytest.mark.parametrize("stored", [
    [b"a", b"b", b"a", b"b"],  # the acknowledged batch replayed at new offsets
    [b"a", b"b", b"c"],  # half of the in-flight batch
    [b"a", b"b", b"x", b"y"],  # two messages nobody sent
])
def test_kill_restart_fails_anything_else_found_beyond_the_acknowledgements(stored):
    clean, found = verify(ledger_with([b"a", b"b"], [b"c", b"d"]), {0: stored})
    assert not clean and found.phantoms > 0 and not found.ok


def test_kill_restart_remembers_a_kept_batch_and_never_accepts_a_lost_one_later():
    ledger = ledger_with([b"a"], [b"b"])
    assert verify(ledger, {0: [b"a", b"b"]})[0]  # kept: accepted from now on
    assert verify(ledger, {0: [b"a", b"b"]})[0]
    gone = ledger_with([b"a"], [b"b"])
    assert verify(gone, {0: [b"a"]})[0]  # not kept: fine, but it may not come back
    assert not verify(gone, {0: [b"a", b"b"]})[0]


def test_kill_restart_fails_a_round_whose_send_was_refused_while_the_server_was_up():
    class Refusing:
        async def send_messages(self, *args) -> None:
            raise RuntimeError("Invalid command")

    found = kill_restart.KillReport()
    asyncio.run(kill_restart.send_until_killed(Refusing(), kill_restart.Ledger(),
                                               random.Random(1), 2, 0, asyncio.Event(), found))
    assert found.refused and not found.ok
    killed = asyncio.Event()
    killed.set()
    after_kill = kill_restart.KillReport()
    asyncio.run(kill_restart.send_until_killed(Refusing(), kill_restart.Ledger(),
                                               random.Random(1), 2, 0, killed, after_kill))
    assert not after_kill.refused


def soak_report() -> soak.SoakReport:
    found = soak.SoakReport(soak.Roles.for_clients(8), 1.0, 2)
    found.readers = [soak.Deliveries("single consumers")]
    return found


def test_soak_fails_two_acknowledgements_of_one_offset():
    found = soak_report()
    found.acknowledge(0, 5, b"first")
    found.acknowledge(0, 5, b"second")
    found.readers[0].record(0, 0, 5, b"second")
    assert found.acked_twice == [(0, 5)] and not found.ok


def test_soak_reports_and_fails_deliveries_that_were_never_acknowledged():
    found = soak_report()
    found.acknowledge(0, 0, b"m0")
    reader = found.readers[0]
    reader.record(0, 0, 0, b"m0")
    assert found.ok and soak.delivered_all(found)
    reader.record(0, 0, 1, b"never sent")
    assert found.unacknowledged(reader) == 1 and not found.ok
    assert "never acknowledged 1" in "\n".join(found.lines())


def test_soak_is_not_drained_by_a_count_made_up_of_unacknowledged_deliveries():
    found = soak_report()
    found.acknowledge(0, 0, b"m0")
    found.readers[0].record(0, 0, 7, b"stray")
    assert not soak.delivered_all(found)


def test_throughput_names_every_median_below_its_target(capsys):
    figures = Figures(Workload("slow-poll"))
    for null, sandbox in ((100.0, 90.0), (100.0, 70.0), (100.0, 75.0)):
        figures.add("null", "send", null)
        figures.add("sandbox", "send", sandbox)
        figures.add("null", "poll", null)
        figures.add("sandbox", "poll", sandbox - 10)
    misses = report([figures], real=False)
    assert len(misses) == 2 and "slow-poll send" in misses[0] and "slow-poll poll" in misses[1]
    assert "0.75" in misses[0] and "MISSED" in capsys.readouterr().out


def test_the_workload_table_is_consistent_and_keys_spread_evenly():
    for workload in WORKLOADS:
        workload.check()
    assert {w.transport for w in WORKLOADS} >= {TCP, "http"}
    keys = keys_for(8)
    assert [xxhash.xxh32_intdigest(k.encode()) % 8 for k in keys] == list(range(8)) * 2
    sizes = Payloads(10, 10_000).sizes(1000)
    assert min(sizes) >= 10 and max(sizes) <= 10_000 and sizes != Payloads(10, 10_000).sizes(
        1000, variant=1)
    with pytest.raises(ValueError):
        Workload("too-many-polls", polls=1000).check()
