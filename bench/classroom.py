"""A classroom on one sandbox: every learner's producer, consumer, consumer group and notebook
at once, with an exact account of each learner's messages and the latency each one sees.

Each learner has a stream of its own (a topic of 3 partitions and a consumer group) and
seven clients, as its notebook would open them:

- a producer sending small batches (balanced partitioning) every ``--pause`` seconds;
- a single consumer reading the 3 partitions (``Next``, auto-commit);
- a consumer group of 3 members (``join_consumer_group`` + ``Next`` polls, auto-commit);
- a notebook running the course's heavier cells in a loop: a scratch topic filled with
  1000 messages in batches of 100, read back and described; every tenth round its Setup
  cell runs again (server stats, the stream listing, the scratch topic deleted and made
  again: metadata writes);
- a pinger, pinging every 250 ms: the latency the learner sees while all that runs.

Readers wait ``--idle-poll`` seconds after a poll that returned nothing. Learners' clients
are spread over ``--workers`` processes (the SDK's Tokio threads and one asyncio loop per
process), run at a lower CPU priority (nice 10): in a classroom each notebook runs on its
learner's machine, not on the server's cores. The pingers run in a process of their own at
normal priority, as a learner's kernel is its own process: a ping then measures the server,
not the queue of other learners' clients in a shared process.

When the sends stop, the readers drain; then, per learner, every acknowledged message must
have reached the single consumer once and the group once, each reader must have seen each
partition in offset order, no client may have had an error, and the pings taken while the
load ran must stay under 50 ms at the median and 500 ms at p99.

Run: ``python -m bench.classroom [--learners 100] [--duration 60] [--workers 4]``. Prints
the figures; exits 1 when a learner lost, repeated or reordered a message, saw an error,
or waited too long.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from apache_iggy import Consumer, IggyClient, Partitioning, PollingStrategy, SendMessage

from bench.memory import memory_mb
from bench.soak import ROOT_ENV, Deliveries, connect, guarded
from coursekit.scripts import exit_now
from sandbox.launch import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
TOPIC, SCRATCH, GROUP = "events", "scratch", "members"
PARTITIONS = 3
POLL_COUNT = 100
PING_INTERVAL = 0.25
NOTEBOOK_THINK = 1.0  # mean seconds between the notebook's cells (0.5 to 1.5)
SETUP_EVERY = 10  # notebook rounds between two runs of its Setup cell
CELL_MESSAGES, CELL_BATCH = 1000, 100
MEDIAN_LIMIT_MS, P99_LIMIT_MS = 50.0, 500.0
RESULT_MARK = "learners-result "
READY_MARK = "learners-ready"
LOAD_NICENESS = 10  # the learners' own clients yield the CPU to the server and the pingers
LOAD_ROLES = ("producer", "single", "member 0", "member 1", "member 2", "notebook")


@dataclass
class LearnerResult:
    """What one learner's clients saw; every count but the pings must be 0 to pass."""

    learner: int
    acked: int = 0
    single_delivered: int = 0
    single_lost: int = 0
    single_duplicates: int = 0
    group_delivered: int = 0
    group_lost: int = 0
    group_duplicates: int = 0
    out_of_order: int = 0
    notebook_rounds: int = 0
    pings: int = 0
    ping_median_ms: float = 0.0
    ping_p99_ms: float = 0.0
    ping_max_ms: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.acked > 0 and not self.errors and self.pings > 0
                and self.single_lost == self.single_duplicates == 0
                and self.group_lost == self.group_duplicates == self.out_of_order == 0
                and self.ping_median_ms < MEDIAN_LIMIT_MS and self.ping_p99_ms < P99_LIMIT_MS)


def stream_of(learner: int) -> str:
    return f"learner{learner:03d}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def account(acked: dict[tuple[int, int], bytes], reader: Deliveries) -> tuple[int, int, int]:
    """(delivered, lost, duplicates) of one reader against what was acknowledged."""
    return reader.count(), reader.lost(acked), reader.duplicates()


class Learner:
    """One learner's seven clients and what they saw."""

    def __init__(self, number: int, address: str, pause: float, idle_poll: float, seed: int):
        self.number, self.address, self.pause, self.idle_poll = number, address, pause, idle_poll
        self.stream = stream_of(number)
        self.rng = random.Random(seed)
        self.acked: dict[tuple[int, int], bytes] = {}
        self.single = Deliveries("single consumer")
        self.group = Deliveries("group")
        self.pings: list[float] = []
        self.rounds = 0
        self.errors: list[str] = []
        self.clients: dict[str, IggyClient] = {}

    async def set_up(self, roles: tuple[str, ...] = LOAD_ROLES) -> None:
        """Connect (and log in) every client before the load starts: a storm of password
        checks is a start-of-class cost, not what a learner waits for during a cell."""
        self.clients = {role: await connect(self.address) for role in roles}

    async def make_stream(self) -> None:
        admin = self.clients["producer"]
        await admin.create_stream(self.stream)
        await admin.create_topic(self.stream, TOPIC, partitions_count=PARTITIONS)
        await admin.create_consumer_group(self.stream, TOPIC, GROUP)

    async def produce(self, until: float) -> None:
        client = self.clients["producer"]
        sequence = 0
        while time.monotonic() < until:
            payloads = [f"{self.number}-{sequence + i}".encode()
                        for i in range(self.rng.randint(1, 10))]
            sequence += len(payloads)
            sent = await client.send_messages(self.stream, TOPIC, Partitioning.balanced(),
                                              [SendMessage(p) for p in payloads])
            confirmation = sent.confirmations[0]
            for i, payload in enumerate(payloads):
                self.acked[(confirmation.partition_id, confirmation.base_offset + i)] = payload
            await asyncio.sleep(self.pause)

    async def read_single(self, done: asyncio.Event) -> None:
        client = self.clients["single"]
        consumer = Consumer.Single(f"{self.stream}-single")
        while not done.is_set():
            idle = True
            for partition in range(PARTITIONS):
                polled = await client.poll_messages(
                    self.stream, TOPIC, consumer=consumer, partition_id=partition,
                    polling_strategy=PollingStrategy.Next(), count=POLL_COUNT, auto_commit=True)
                for message in polled:
                    self.single.record(0, partition, message.offset(), message.payload())
                idle = idle and not polled
            if idle:
                await asyncio.sleep(self.idle_poll)

    async def read_in_group(self, member: int, done: asyncio.Event) -> None:
        client = self.clients[f"member {member}"]
        await client.join_consumer_group(self.stream, TOPIC, GROUP)
        consumer = Consumer.Group(GROUP)
        while not done.is_set():
            polled = await client.poll_messages(
                self.stream, TOPIC, consumer=consumer, polling_strategy=PollingStrategy.Next(),
                count=POLL_COUNT, auto_commit=True)
            for message in polled:
                self.group.record(member, message.partition_id(), message.offset(),
                                  message.payload())
            if not polled:
                await asyncio.sleep(self.idle_poll)

    async def notebook(self, until: float) -> None:
        """The course's heavier cells, one after another, with a learner's pauses. Learners
        do not press Run at the same millisecond: each starts within the first few rounds'
        time and pauses a little differently between cells."""
        client = self.clients["notebook"]
        await asyncio.sleep(self.rng.uniform(0, SETUP_EVERY * NOTEBOOK_THINK))
        batch = [SendMessage(b"n" * 200) for _ in range(CELL_BATCH)]
        while time.monotonic() < until:
            if self.rounds % SETUP_EVERY == 0:
                await client.get_stats()
                await client.get_streams()
                if await client.get_topic(self.stream, SCRATCH) is not None:
                    await client.delete_topic(self.stream, SCRATCH)
                await client.create_topic(self.stream, SCRATCH, partitions_count=1)
            for _ in range(CELL_MESSAGES // CELL_BATCH):
                await client.send_messages(self.stream, SCRATCH, Partitioning.partition_id(0),
                                           batch)
            first = self.rounds % SETUP_EVERY * CELL_MESSAGES  # where this round's messages are
            read = 0
            while read < CELL_MESSAGES:
                polled = await client.poll_messages(
                    self.stream, SCRATCH, partition_id=0, consumer=Consumer.Single("notebook"),
                    polling_strategy=PollingStrategy.Offset(first + read), count=CELL_BATCH,
                    auto_commit=False)
                assert polled, "the notebook's messages were not all there"
                read += len(polled)
            await client.get_topic(self.stream, SCRATCH)
            self.rounds += 1
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * NOTEBOOK_THINK)

    async def ping(self, until: float) -> None:
        client = self.clients["pinger"]
        while time.monotonic() < until:
            started = time.perf_counter()
            await client.ping()
            self.pings.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(PING_INTERVAL)

    def result(self) -> LearnerResult:
        single = account(self.acked, self.single)
        group = account(self.acked, self.group)
        return LearnerResult(
            self.number, len(self.acked), *single, *group,
            out_of_order=self.single.out_of_order + self.group.out_of_order,
            notebook_rounds=self.rounds, pings=len(self.pings),
            ping_median_ms=statistics.median(self.pings) if self.pings else 0.0,
            ping_p99_ms=percentile(self.pings, 0.99), ping_max_ms=max(self.pings, default=0.0),
            errors=self.errors)


def merged(load: LearnerResult, pings: LearnerResult) -> LearnerResult:
    """A learner's result from the load process with the pings from the ping process."""
    return LearnerResult(**{**asdict(load), "pings": pings.pings,
                            "ping_median_ms": pings.ping_median_ms,
                            "ping_p99_ms": pings.ping_p99_ms, "ping_max_ms": pings.ping_max_ms,
                            "errors": load.errors + pings.errors})


async def start_together() -> None:
    """Say this process is set up, then wait for the parent's word that all of them are:
    the load starts at once everywhere, after every client has connected."""
    print(READY_MARK, flush=True)
    await asyncio.to_thread(sys.stdin.readline)


def delivered_all(learners: list[Learner]) -> bool:
    return all(len({(p, o) for p, o, _ in reader.seen}) >= len(learner.acked)
               for learner in learners for reader in (learner.single, learner.group))


async def run_pingers(address: str, numbers: list[int],
                      duration: float) -> list[LearnerResult]:
    """Ping for the given learners for ``duration`` seconds from the common start."""
    learners = [Learner(n, address, 0.0, 0.0, seed=n) for n in numbers]
    for learner in learners:
        await learner.set_up(("pinger",))
    await start_together()
    until = time.monotonic() + duration
    await asyncio.gather(*(guarded("pinger", learner.ping(until), learner.errors)
                           for learner in learners))
    return [learner.result() for learner in learners]


async def run_learners(address: str, numbers: list[int], duration: float, pause: float,
                       idle_poll: float, drain_timeout: float = 120.0) -> list[LearnerResult]:
    """Run the given learners' producers, readers and notebooks against ``address``; the
    sends start at the common start and last ``duration`` seconds."""
    learners = [Learner(n, address, pause, idle_poll, seed=n) for n in numbers]
    for learner in learners:
        await learner.set_up()
        await learner.make_stream()
    done = asyncio.Event()
    readers = [asyncio.ensure_future(guarded("single consumer", learner.read_single(done),
                                             learner.errors))
               for learner in learners]
    readers += [asyncio.ensure_future(guarded(f"group member {m}",
                                              learner.read_in_group(m, done), learner.errors))
                for learner in learners for m in range(3)]
    await start_together()
    until = time.monotonic() + duration
    await asyncio.gather(*(work for learner in learners for work in (
        guarded("producer", learner.produce(until), learner.errors),
        guarded("notebook", learner.notebook(until), learner.errors))))
    drain_until = time.monotonic() + drain_timeout
    while not delivered_all(learners) and time.monotonic() < drain_until:
        if all(reader.done() for reader in readers):
            break
        await asyncio.sleep(0.1)
    done.set()
    await asyncio.wait_for(asyncio.gather(*readers), 60)
    return [learner.result() for learner in learners]


@dataclass
class ClassroomReport:
    learners: int
    workers: int
    duration: float
    results: list[LearnerResult] = field(default_factory=list)
    worker_failures: list[str] = field(default_factory=list)
    server_cpu_seconds: float = 0.0
    server_peak_mb: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.worker_failures and len(self.results) == self.learners
                and all(result.ok for result in self.results))

    def lines(self) -> list[str]:
        results = self.results
        acked = sum(r.acked for r in results)
        medians = [r.ping_median_ms for r in results]
        p99s = [r.ping_p99_ms for r in results]
        out = [f"{self.learners} learners x 7 clients ({7 * self.learners} connections) in "
               f"{self.workers} processes (and one for the pingers), {self.duration:.0f} s of load",
               f"acknowledged {acked} messages ({acked / self.duration:.0f} msg/s); "
               f"notebook rounds {sum(r.notebook_rounds for r in results)}",
               f"single consumers: delivered {sum(r.single_delivered for r in results)}, lost "
               f"{sum(r.single_lost for r in results)}, duplicates "
               f"{sum(r.single_duplicates for r in results)}",
               f"groups of 3: delivered {sum(r.group_delivered for r in results)}, lost "
               f"{sum(r.group_lost for r in results)}, duplicates "
               f"{sum(r.group_duplicates for r in results)}; out of order (all readers): "
               f"{sum(r.out_of_order for r in results)}",
               f"ping per learner while loaded: median of medians "
               f"{statistics.median(medians) if medians else 0:.1f} ms, worst median "
               f"{max(medians, default=0):.1f} ms (limit {MEDIAN_LIMIT_MS:.0f}); worst p99 "
               f"{max(p99s, default=0):.1f} ms (limit {P99_LIMIT_MS:.0f}); worst single ping "
               f"{max((r.ping_max_ms for r in results), default=0):.0f} ms; "
               f"{sum(r.pings for r in results)} pings",
               f"server: {self.server_cpu_seconds:.0f} s of CPU, peak resident "
               f"{self.server_peak_mb:.0f} MB",
               f"client errors: {sum(len(r.errors) for r in results)}; learners failing: "
               f"{sum(1 for r in results if not r.ok)}"]
        out += [f"  learner {r.learner}: {r}" for r in results if not r.ok][:10]
        out += [f"  worker failed: {failure}" for failure in self.worker_failures]
        return out


def process_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak resident MB) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, memory_mb(pid)["VmHWM"]


def run_classroom(address: str, server_pid: int, learners: int, duration: float,
                  workers: int, pause: float, idle_poll: float) -> ClassroomReport:
    """Run ``learners`` spread over ``workers`` processes against the server at ``address``."""
    report = ClassroomReport(learners, workers, duration)
    shares = [list(range(w, learners, workers)) for w in range(workers)]
    roles = [("load", share) for share in shares if share] + [("ping", list(range(learners)))]
    processes = [(role, subprocess.Popen(
        [sys.executable, "-m", "bench.classroom", "--worker", role, "--address", address,
         "--learners", ",".join(map(str, share)), "--duration", str(duration),
         "--pause", str(pause), "--idle-poll", str(idle_poll)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)) for role, share in roles]
    for _, process in processes:  # each says when its clients are connected
        while (line := process.stdout.readline()) and line.strip() != READY_MARK:
            pass
    for _, process in processes:
        with contextlib.suppress(BrokenPipeError):  # a worker that died is reported below
            process.stdin.write("go\n")
            process.stdin.flush()
    found: dict[str, dict[int, LearnerResult]] = {"load": {}, "ping": {}}
    for role, process in processes:
        out, err = process.communicate(timeout=duration + 600)
        lines = [line for line in out.splitlines() if line.startswith(RESULT_MARK)]
        if process.returncode != 0 or not lines:
            report.worker_failures.append(f"{role} process, exit {process.returncode}: "
                                          f"{err.strip()[-800:]}")
            continue
        for fields in json.loads(lines[-1][len(RESULT_MARK):]):
            found[role][fields["learner"]] = LearnerResult(**fields)
    report.results = [merged(load, found["ping"][number])
                      for number, load in sorted(found["load"].items())
                      if number in found["ping"]]
    report.server_cpu_seconds, report.server_peak_mb = process_stats(server_pid)
    return report


def worker(args: argparse.Namespace) -> int:
    numbers = [int(n) for n in args.learners.split(",")]
    if args.worker == "ping":
        work = run_pingers(args.address, numbers, args.duration)
    else:
        os.nice(LOAD_NICENESS)
        work = run_learners(args.address, numbers, args.duration, args.pause, args.idle_poll)
    results = asyncio.run(work)
    print(RESULT_MARK + json.dumps([asdict(r) for r in results]), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", default="100",
                        help="how many learners (a worker gets their numbers, comma-separated)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4,
                        help="processes for the learners' clients (the pingers get one more)")
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds between a producer's batches (default 0.5)")
    parser.add_argument("--idle-poll", type=float, default=0.5,
                        help="seconds a reader waits after a poll that returned nothing "
                             "(default 0.5)")
    parser.add_argument("--worker", choices=["load", "ping"], help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    with tempfile.TemporaryDirectory(prefix="classroom-") as work:
        log = Path(work) / "sandbox.log"
        with start_sandbox(data_dir=Path(work) / "data", log_file=log,
                           env={**os.environ, **ROOT_ENV}) as server:
            report = run_classroom(server.tcp_address, server.pid, int(args.learners),
                                   args.duration, args.workers, args.pause, args.idle_poll)
        print("classroom against one sandbox:")
        for line in report.lines():
            print("  " + line)
        if not report.ok:
            print(f"  FAILED; the server's log ends with:\n{log.read_text()[-3000:]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    exit_now(main())  # past the SDK threads that can abort interpreter teardown
