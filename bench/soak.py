"""Soak: many SDK clients at once against one sandbox, and an exact account of every message.

A classroom in one process: producers send batches (balanced partitioning) for a bounded
time while single consumers read their partitions, one consumer group reads through the
high-level ``consumer_group()`` consumer (polling every ``poll_interval``, auto-commit on
poll) and a second group through low-level ``join_consumer_group`` + ``poll_messages``.
When the producers stop, the consumers drain. Then each message the server acknowledged
must have been delivered exactly once to each group and once to its single consumer, and
each reader must have seen its partitions in offset order. No two acknowledgements may name
the same (partition, offset), and no reader may receive a message that was never
acknowledged.

Run: ``python -m bench.soak [--clients 32] [--duration 30] [--partitions 8]``. Prints
messages acknowledged, delivered, lost (must be 0), duplicates and deliveries never
acknowledged; exits 1 on any loss, duplicate, double acknowledgement, unacknowledged
delivery, disorder or client error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from apache_iggy import (
    AutoCommit,
    AutoCommitWhen,
    Consumer,
    IggyClient,
    Partitioning,
    PollingStrategy,
    SendMessage,
    TcpConfig,
    TcpReconnectionConfig,
)

from coursekit.scripts import exit_now
from sandbox.launch import start_sandbox

STREAM, TOPIC = "soak", "events"
HIGH_LEVEL_GROUP, LOW_LEVEL_GROUP = "soak-high-level", "soak-low-level"
POLL_COUNT = 1000
IDLE_SLEEP = 0.02  # seconds a low-level reader waits after an empty poll
ROOT_ENV = {"IGGY_ROOT_USERNAME": "iggy", "IGGY_ROOT_PASSWORD": "iggy"}


@dataclass
class Roles:
    producers: int
    singles: int
    high_level: int
    low_level: int

    @classmethod
    def for_clients(cls, clients: int) -> Roles:
        """3/8 producers, 1/8 single consumers, the rest split between the two groups."""
        if clients < 6:
            raise ValueError("the soak needs at least 6 clients (one of each kind, 2 per group)")
        producers, singles = max(clients * 3 // 8, 1), max(clients // 8, 1)
        members = clients - producers - singles
        return cls(producers, singles, members - members // 2, members // 2)

    @property
    def total(self) -> int:
        return self.producers + self.singles + self.high_level + self.low_level


@dataclass
class Deliveries:
    """What one kind of reader (a group, or the single consumers together) received."""

    label: str
    seen: list[tuple[int, int, bytes]] = field(default_factory=list)  # partition, offset, bytes
    out_of_order: int = 0  # offsets not above the reader's previous one on that partition
    last: dict[tuple[int, int], int] = field(default_factory=dict)  # (reader, partition)

    def record(self, reader: int, partition: int, offset: int, payload: bytes) -> None:
        if offset <= self.last.get((reader, partition), -1):
            self.out_of_order += 1
        self.last[(reader, partition)] = offset
        self.seen.append((partition, offset, payload))

    def count(self) -> int:
        return len(self.seen)

    def lost(self, acked: dict[tuple[int, int], bytes]) -> int:
        """Acknowledged (partition, offset)s this reader never had, or had with other bytes."""
        delivered = {(p, o): payload for p, o, payload in self.seen}
        return sum(1 for key, payload in acked.items() if delivered.get(key) != payload)

    def duplicates(self) -> int:
        """Deliveries of a (partition, offset) this reader had already had."""
        return sum(n - 1 for n in Counter((p, o) for p, o, _ in self.seen).values())


@dataclass
class SoakReport:
    roles: Roles
    duration: float
    partitions: int
    acked: dict[tuple[int, int], bytes] = field(default_factory=dict)
    acked_twice: list[tuple[int, int]] = field(default_factory=list)  # (partition, offset)
    batches: int = 0
    producer_disorder: int = 0  # a producer's later batch got a lower offset
    readers: list[Deliveries] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drain_seconds: float = 0.0
    drain_timed_out: bool = False

    def unacknowledged(self, reader: Deliveries) -> int:
        """Deliveries of a (partition, offset) never acknowledged, or with other bytes."""
        return sum(1 for p, o, payload in reader.seen if self.acked.get((p, o)) != payload)

    def acknowledge(self, partition: int, offset: int, payload: bytes) -> None:
        if (partition, offset) in self.acked:
            self.acked_twice.append((partition, offset))
        self.acked[(partition, offset)] = payload

    @property
    def ok(self) -> bool:
        return (bool(self.acked) and not self.errors and self.producer_disorder == 0
                and not self.acked_twice
                and all(r.lost(self.acked) == r.duplicates() == r.out_of_order
                        == self.unacknowledged(r) == 0 for r in self.readers))

    def lines(self) -> list[str]:
        r = self.roles
        rate = len(self.acked) / self.duration if self.duration else 0
        out = [f"clients: {r.total} ({r.producers} producers, {r.singles} single consumers, "
               f"{r.high_level} consumer_group() members, {r.low_level} join+poll members), "
               f"{self.partitions} partitions, {self.duration:.0f} s of sends",
               f"acknowledged: {len(self.acked)} messages in {self.batches} batches "
               f"({rate:.0f} msg/s); producer order violations: {self.producer_disorder}; "
               f"offsets acknowledged twice: {len(self.acked_twice)}"]
        for reader in self.readers:
            out.append(f"{reader.label}: delivered {reader.count()}, "
                       f"lost {reader.lost(self.acked)}, "
                       f"duplicates {reader.duplicates()}, out of order "
                       f"{reader.out_of_order}, never acknowledged "
                       f"{self.unacknowledged(reader)}")
        out += [f"  acknowledged twice: partition {p}, offset {o}"
                for p, o in self.acked_twice[:10]]
        drained = "gave up draining after" if self.drain_timed_out else "drained in"
        out.append(f"{drained} {self.drain_seconds:.1f} s; client errors: {len(self.errors)}")
        out += [f"  error: {error}" for error in self.errors[:10]]
        return out


async def connect(address: str) -> IggyClient:
    """A client logged in as root that fails fast instead of redialing a dead server."""
    client = IggyClient(TcpConfig(server_address=address,
                                  reconnection=TcpReconnectionConfig(enabled=False)))
    await client.connect()
    await client.login_user("iggy", "iggy")
    return client


async def produce(client: IggyClient, producer: int, report: SoakReport, until: float,
                  rng: random.Random, pause: float) -> None:
    last_offset: dict[int, int] = {}
    sequence = 0
    while time.monotonic() < until:
        payloads = [f"p{producer}-{sequence + i}".encode() for i in range(rng.randint(1, 50))]
        sequence += len(payloads)
        sent = await client.send_messages(STREAM, TOPIC, Partitioning.balanced(),
                                          [SendMessage(p) for p in payloads])
        confirmation = sent.confirmations[0]
        partition, base = confirmation.partition_id, confirmation.base_offset
        if base <= last_offset.get(partition, -1):
            report.producer_disorder += 1
        last_offset[partition] = base + len(payloads) - 1
        for i, payload in enumerate(payloads):
            report.acknowledge(partition, base + i, payload)
        report.batches += 1
        await asyncio.sleep(pause)


async def read_single(client: IggyClient, reader: int, partitions: list[int],
                      deliveries: Deliveries, done: asyncio.Event) -> None:
    consumer = Consumer.Single(f"soak-single-{reader}")
    while not done.is_set():
        idle = True
        for partition in partitions:
            polled = await client.poll_messages(
                STREAM, TOPIC, consumer=consumer, partition_id=partition,
                polling_strategy=PollingStrategy.Next(), count=POLL_COUNT, auto_commit=True)
            for message in polled:
                deliveries.record(reader, partition, message.offset(), message.payload())
            idle = idle and not polled
        if idle:
            await asyncio.sleep(IDLE_SLEEP)


async def read_low_level(client: IggyClient, reader: int, deliveries: Deliveries,
                         done: asyncio.Event) -> None:
    await client.join_consumer_group(STREAM, TOPIC, LOW_LEVEL_GROUP)
    consumer = Consumer.Group(LOW_LEVEL_GROUP)
    while not done.is_set():
        polled = await client.poll_messages(
            STREAM, TOPIC, consumer=consumer, polling_strategy=PollingStrategy.Next(),
            count=POLL_COUNT, auto_commit=True)
        for message in polled:
            deliveries.record(reader, message.partition_id(), message.offset(), message.payload())
        if not polled:
            await asyncio.sleep(IDLE_SLEEP)


async def read_high_level(client: IggyClient, reader: int, deliveries: Deliveries,
                          done: asyncio.Event) -> None:
    consumer = await client.consumer_group(
        HIGH_LEVEL_GROUP, STREAM, TOPIC, batch_length=POLL_COUNT,
        polling_strategy=PollingStrategy.Next(),
        auto_commit=AutoCommit.When(AutoCommitWhen.PollingMessages()),
        poll_interval=timedelta(milliseconds=10))

    async def record(message) -> None:
        deliveries.record(reader, message.partition_id(), message.offset(), message.payload())

    await consumer.consume_messages(record, done)


async def guarded(label: str, work, errors: list[str]) -> None:
    """Await ``work``; an exception it raises is noted in ``errors``, not raised."""
    try:
        await work
    except Exception as error:  # noqa: BLE001 - every client error is a finding
        errors.append(f"{label}: {type(error).__name__}: {error}")


def delivered_all(report: SoakReport) -> bool:
    """Every reader has had every acknowledged (partition, offset) (a count could be made
    up by deliveries that were never acknowledged)."""
    return all(report.acked.keys() <= {(p, o) for p, o, _ in r.seen} for r in report.readers)


async def run_soak(address: str, clients: int = 32, duration: float = 30.0,
                   partitions: int = 8, pause: float = 0.01, drain_timeout: float = 300.0,
                   seed: int = 1) -> SoakReport:
    """Run the soak against the server at ``address``; the figures come back."""
    roles = Roles.for_clients(clients)
    report = SoakReport(roles, duration, partitions)
    admin = await connect(address)
    await admin.create_stream(STREAM)
    await admin.create_topic(STREAM, TOPIC, partitions_count=partitions)
    await admin.create_consumer_group(STREAM, TOPIC, LOW_LEVEL_GROUP)
    singles = Deliveries(f"single consumers ({roles.singles})")
    high = Deliveries(f"group {HIGH_LEVEL_GROUP} ({roles.high_level} members)")
    low = Deliveries(f"group {LOW_LEVEL_GROUP} ({roles.low_level} members)")
    report.readers = [high, low, singles]
    rng = random.Random(seed)
    done = asyncio.Event()
    readers = []
    for i in range(roles.singles):
        mine = [p for p in range(partitions) if p % roles.singles == i]
        readers.append(guarded(f"single {i}", read_single(await connect(address), i, mine,
                                                         singles, done), report.errors))
    for i in range(roles.high_level):
        readers.append(guarded(f"consumer_group() member {i}", read_high_level(
            await connect(address), i, high, done), report.errors))
    for i in range(roles.low_level):
        readers.append(guarded(f"join+poll member {i}", read_low_level(
            await connect(address), i, low, done), report.errors))
    reader_tasks = [asyncio.ensure_future(reader) for reader in readers]
    producer_clients = [await connect(address) for _ in range(roles.producers)]
    until = time.monotonic() + duration
    await asyncio.gather(*(guarded(f"producer {i}", produce(
        client, i, report, until, random.Random(rng.random()), pause), report.errors)
        for i, client in enumerate(producer_clients)))
    drain_started = time.monotonic()
    while not delivered_all(report) and time.monotonic() - drain_started < drain_timeout:
        if all(task.done() for task in reader_tasks):
            break
        await asyncio.sleep(0.1)
    report.drain_seconds = time.monotonic() - drain_started
    report.drain_timed_out = not delivered_all(report)
    done.set()
    await asyncio.wait_for(asyncio.gather(*reader_tasks), 30)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sends")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--pause", type=float, default=0.01,
                        help="seconds each producer waits between batches (default 0.01)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as work:
        log = Path(work) / "sandbox.log"
        with start_sandbox(data_dir=Path(work) / "data", log_file=log,
                           env={**os.environ, **ROOT_ENV}) as server:
            report = asyncio.run(run_soak(server.tcp_address, args.clients, args.duration,
                                          args.partitions, args.pause, seed=args.seed))
        print("soak against the sandbox:")
        for line in report.lines():
            print("  " + line)
        if not report.ok:
            print(f"  FAILED; the server's log ends with:\n{log.read_text()[-4000:]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    exit_now(main())  # past the SDK threads that can abort interpreter teardown
