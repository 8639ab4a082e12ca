"""One workload against one server: set up, then timed send and poll phases, through the SDK.

The same code drives the null responder, the sandbox and a real Iggy, so the only difference
between their figures is the server. Every poll must return exactly what was asked for (and,
from a server that stores, the offsets asked for): a server that answered with less would
otherwise look fast.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from apache_iggy import (
    Consumer,
    HttpConfig,
    IggyClient,
    Partitioning,
    PollingStrategy,
    SendMessage,
    TcpConfig,
)

from bench.workloads import HTTP, TCP, Workload, keys_for
from sandbox.wire.codec import Writer

SIZE_VARIANTS = 8  # different batches a repetition cycles through (when sizes are mixed)
CREATE_TOPIC = 302


class BenchError(RuntimeError):
    """A server answered something other than what the workload asked for."""


@dataclass(frozen=True)
class Server:
    """Where one server under measurement listens; ``stores`` is False for the null."""

    name: str
    tcp: str
    http: str
    stores: bool = True
    username: str = "iggy"
    password: str = "iggy"


async def log_in(server: Server, transport: str) -> IggyClient:
    """A client set up as the course's ``helpers.connect`` does: Nagle off, since with it on
    a send of 8 to 64 KB waits about 40 ms for the server's delayed ACK (on any server)."""
    config = (HttpConfig(api_url=server.http) if transport == HTTP
              else TcpConfig(server_address=server.tcp, nodelay=True))
    client = IggyClient(config)
    await client.connect()
    await client.login_user(server.username, server.password)
    return client


@dataclass
class WorkloadRun:
    """A workload's clients and stream on one server, across its repetitions."""

    workload: Workload
    server: Server
    stream: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    topic: str = "t"
    group: str = "bench-group"
    admin: IggyClient | None = None
    producer: IggyClient | None = None
    pollers: list[IggyClient] = field(default_factory=list)
    first_offset: int = 0  # of this repetition's sends, on partition 0

    async def open(self) -> None:
        w = self.workload
        if self.server.stores:  # made over TCP, whatever transport the workload measures
            self.admin = await log_in(self.server, TCP)
            await self.admin.create_stream(self.stream)
            await self.admin.send_binary_request(
                CREATE_TOPIC, topic_request(self.stream, self.topic, w.partitions))
            if w.members:
                await self.admin.create_consumer_group(self.stream, self.topic, self.group)
        self.producer = await log_in(self.server, w.transport)
        self.pollers = [await log_in(self.server, w.transport) for _ in range(max(w.members, 1))]
        for member in self.pollers if w.members else []:  # one at a time: a stable split
            await member.join_consumer_group(self.stream, self.topic, self.group)
        # Batches of mixed sizes differ from one send to the next, as a producer's do
        variants = [w.payloads.sizes(w.batch, v) for v in range(SIZE_VARIANTS)]
        batches = [[SendMessage(b"x" * size) for size in sizes] for sizes in variants]
        self._sends = [(partitioning, batches[i % SIZE_VARIANTS])
                       for i, partitioning in enumerate(_partitionings(w))]

    async def close(self) -> None:
        if self.admin is not None:
            await self.admin.delete_stream(self.stream)

    async def send(self, part: int, parts: int) -> tuple[int, float]:
        """Send slice ``part`` of ``parts`` of one repetition's batches: (messages, seconds).
        The first slice also learns where the repetition's messages begin."""
        client, stream, topic = self.producer, self.stream, self.topic
        span = _span(len(self._sends), part, parts)
        sends = self._sends[span.start:span.stop]
        started = time.perf_counter()
        for n, (partitioning, messages) in enumerate(sends):
            sent = await client.send_messages(stream, topic, partitioning, messages)
            if part == n == 0:
                confirmations = sent.confirmations
                self.first_offset = confirmations[0].base_offset if confirmations else 0
        return len(sends) * self.workload.batch, time.perf_counter() - started

    async def poll(self, part: int, parts: int) -> tuple[int, float]:
        """Poll slice ``part`` of ``parts`` of one repetition's messages: (messages,
        seconds)."""
        w = self.workload
        started = time.perf_counter()
        if w.members:
            shares = [len(range(m, w.partitions, w.members)) * (w.polls // w.partitions)
                      for m in range(w.members)]
            spans = [_span(share, part, parts) for share in shares]
            await asyncio.gather(*(self._poll_group(client, len(span))
                                   for client, span in zip(self.pollers, spans, strict=True)))
            polls = sum(len(span) for span in spans)
        else:
            span = _span(w.polls, part, parts)
            await self._poll_single(self.pollers[0], span)
            polls = len(span)
        return polls * w.poll_count, time.perf_counter() - started

    async def _poll_single(self, client: IggyClient, polls: range) -> None:
        w = self.workload
        consumer = Consumer.Single("bench")
        count, auto_commit, stream, topic = w.poll_count, w.auto_commit, self.stream, self.topic
        start = self.first_offset + w.poll_shift
        for i in polls:
            if w.strategy == "offset":
                strategy, partition = PollingStrategy.Offset(start + i * count), 0
            else:
                strategy, partition = PollingStrategy.Next(), i % w.partitions
            polled = await client.poll_messages(
                stream, topic, consumer=consumer, partition_id=partition,
                polling_strategy=strategy, count=count, auto_commit=auto_commit)
            self._check(polled, start + i * count if w.strategy == "offset" else None)

    async def _poll_group(self, client: IggyClient, polls: int) -> None:
        w = self.workload
        consumer, strategy = Consumer.Group(self.group), PollingStrategy.Next()
        for _ in range(polls):
            polled = await client.poll_messages(
                self.stream, self.topic, consumer=consumer, polling_strategy=strategy,
                count=w.poll_count, auto_commit=w.auto_commit)
            self._check(polled, None)

    def _check(self, polled: list, offset: int | None) -> None:
        if len(polled) != self.workload.poll_count:
            raise BenchError(f"{self.workload.name} on {self.server.name}: a poll returned "
                             f"{len(polled)} messages instead of {self.workload.poll_count}")
        if offset is not None and self.server.stores and polled[0].offset() != offset:
            raise BenchError(f"{self.workload.name} on {self.server.name}: a poll from offset "
                             f"{offset} began at {polled[0].offset()}")


def topic_request(stream: str, topic: str, partitions: int) -> bytes:
    """CreateTopic with no options block, so every option takes the server's default.

    The SDK's ``create_topic`` cannot be used here: apache-iggy 0.9.0 always sends the option
    key ``consumer_offset_durability``, which Iggy's server-0.9.0-edge.5 refuses
    ("Unsupported option key").
    """
    return Writer().u8(2).u8(len(stream)).raw(stream.encode()).u32(partitions).name(
        topic).bytes()


def _span(n: int, part: int, parts: int) -> range:
    """Indices of slice ``part`` when ``n`` items are cut into ``parts`` even slices."""
    return range(n * part // parts, n * (part + 1) // parts)


def _partitionings(w: Workload) -> list[Partitioning]:
    if w.partitioning == "balanced":
        return [Partitioning.balanced() for _ in range(w.send_batches)]
    if w.partitioning == "key":
        keys = keys_for(w.partitions)
        return [Partitioning.messages_key(keys[i % len(keys)]) for i in range(w.send_batches)]
    return [Partitioning.partition_id(0) for _ in range(w.send_batches)]
