"""The benchmark's workloads, as data: what learners really run, not only the best case.

Each row says what one repetition sends (batches of messages of given sizes to some
partitions) and how it polls them back (strategy, count, where the first poll starts, a
single consumer or a consumer group). The harness (``bench.throughput``) runs every row the
same way against the null responder, the sandbox and, when given, a real Iggy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import xxhash

TCP, HTTP = "tcp", "http"
TARGETS = {TCP: 0.8, HTTP: 0.5}  # the sandbox's least share of the ceiling, per transport


@dataclass(frozen=True)
class Payloads:
    """Payload sizes: all ``low`` bytes, or log-uniform from ``low`` to ``high`` (most
    messages small, a few large, as sensor readings, events and documents mix)."""

    low: int
    high: int | None = None

    def sizes(self, count: int, variant: int = 0) -> list[int]:
        """``count`` sizes; each variant is another draw (the same one in every run)."""
        if self.high is None:
            return [self.low] * count
        rng = random.Random(f"payloads-{self.low}-{self.high}-{variant}")
        span = math.log(self.high) - math.log(self.low)
        return [round(self.low * math.exp(rng.random() * span)) for _ in range(count)]

    def spec(self) -> str:
        """``"100"`` or ``"10:10000"``, what ``parse`` reads back (the null responder's flag)."""
        return str(self.low) if self.high is None else f"{self.low}:{self.high}"

    @classmethod
    def parse(cls, spec: str) -> Payloads:
        low, _, high = spec.partition(":")
        return cls(int(low), int(high) if high else None)

    def label(self) -> str:
        return f"{self.low} B" if self.high is None else f"{self.low} B..{self.high // 1000} KB"


@dataclass(frozen=True)
class Workload:
    """One row of the table. Per repetition: ``send_batches`` sends of ``batch`` messages,
    then ``polls`` polls of ``poll_count`` messages (never more than were sent)."""

    name: str
    transport: str = TCP
    partitions: int = 1
    partitioning: str = "id"  # "id" (always partition 0), "balanced" or "key"
    batch: int = 1000
    payloads: Payloads = Payloads(100)
    send_batches: int = 20
    poll_count: int = 1000
    polls: int = 20
    strategy: str = "offset"  # "offset": from the repetition's first offset; or "next"
    poll_shift: int = 0  # offset polls start this many messages into the first stored batch
    auto_commit: bool = False
    members: int = 0  # > 0: a consumer group of this many clients polls (Next)

    @property
    def sent(self) -> int:
        return self.send_batches * self.batch

    @property
    def polled(self) -> int:
        return self.polls * self.poll_count

    @property
    def target(self) -> float:
        return TARGETS[self.transport]

    def describe(self) -> str:
        how = {"id": "", "balanced": ", balanced", "key": ", by key"}[self.partitioning]
        group = f", group of {self.members}" if self.members else ""
        start = f" from +{self.poll_shift}" if self.poll_shift else ""
        commit = " auto_commit" if self.auto_commit else ""
        return (f"{self.transport.upper()} {self.partitions}p{how}: send {self.batch} x "
                f"{self.payloads.label()}, poll {self.strategy}{start} x {self.poll_count}"
                f"{commit}{group}")

    def check(self) -> None:
        per_partition = self.sent // self.partitions
        if self.sent % self.partitions or self.send_batches % self.partitions:
            raise ValueError(f"{self.name}: batches must spread evenly over the partitions")
        if self.polled + self.poll_shift > self.sent or (
                self.partitions > 1 and self.polls % self.partitions) or (
                self.polled // self.partitions > per_partition):
            raise ValueError(f"{self.name}: polls must fit in what one repetition sends")


# Sized so that each phase takes about 0.15 s against the null responder on a laptop.
WORKLOADS: tuple[Workload, ...] = (
    Workload("uniform", send_batches=300, polls=300),
    Workload("mixed", batch=100, payloads=Payloads(10, 10_000), send_batches=500,
             poll_count=100, polls=500),
    Workload("mid-batch", send_batches=300, poll_shift=500, polls=299),
    Workload("next-1", batch=10, send_batches=1000, poll_count=1, polls=1000,
             strategy="next", auto_commit=True),
    Workload("next-10", batch=100, send_batches=1000, poll_count=10, polls=1500,
             strategy="next", auto_commit=True),
    Workload("next-100", send_batches=300, poll_count=100, polls=1500, strategy="next",
             auto_commit=True),
    Workload("key-8p", partitions=8, partitioning="key", batch=100, send_batches=1200,
             poll_count=100, polls=1200, strategy="next", auto_commit=True),
    Workload("balanced-8p", partitions=8, partitioning="balanced", batch=100,
             send_batches=1200, poll_count=100, polls=1200, strategy="next", auto_commit=True),
    Workload("group-3", partitions=8, partitioning="balanced", batch=100, send_batches=1200,
             poll_count=100, polls=1200, strategy="next", auto_commit=True, members=3),
    Workload("http", transport=HTTP, batch=100, send_batches=400, poll_count=100, polls=400),
)


def keys_for(partitions: int, per_partition: int = 2) -> list[str]:
    """Message keys that land evenly on the partitions (the SDK picks the partition as
    XXH32(key) % partitions), in the order that visits partitions 0, 1, 2, ..."""
    chosen: dict[int, list[str]] = {p: [] for p in range(partitions)}
    n = 0
    while any(len(keys) < per_partition for keys in chosen.values()):
        key = f"sensor-{n}"
        keys = chosen[xxhash.xxh32_intdigest(key.encode()) % partitions]
        if len(keys) < per_partition:
            keys.append(key)
        n += 1
    return [chosen[p][i] for i in range(per_partition) for p in range(partitions)]
