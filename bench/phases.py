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

from bench.workloads import HTTP, Workload, keys_for


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
    producer: IggyClient | None = None
    pollers: list[IggyClient] = field(default_factory=list)
    first_offset: int = 0  # of this repetition's sends, on partition 0

    async def open(self) -> None:
        w = self.workload
        self.producer = await log_in(self.server, w.transport)
        if self.server.stores:
            await self.producer.create_stream(self.stream)
            await self.producer.create_topic(self.stream, self.topic,
                                             partitions_count=w.partitions)
            if w.members:
                await self.producer.create_consumer_group(self.stream, self.topic, self.group)
        self.pollers = [await log_in(self.server, w.transport) for _ in range(max(w.members, 1))]
        for member in self.pollers if w.members else []:  # one at a time: a stable split
            await member.join_consumer_group(self.stream, self.topic, self.group)
        sizes = w.payloads.sizes(w.batch)
        self._messages = [SendMessage(b"x" * size) for size in sizes]
        self._partitionings = _partitionings(w)

    async def close(self) -> None:
        if self.server.stores and self.producer is not None:
            await self.producer.delete_stream(self.stream)

    async def send(self) -> float:
        """Send one repetition's batches; messages per second."""
        client, messages, stream, topic = self.producer, self._messages, self.stream, self.topic
        partitionings = self._partitionings
        started = time.perf_counter()
        first = await client.send_messages(stream, topic, partitionings[0], messages)
        for partitioning in partitionings[1:]:
            await client.send_messages(stream, topic, partitioning, messages)
        elapsed = time.perf_counter() - started
        confirmations = first.confirmations
        self.first_offset = confirmations[0].base_offset if confirmations else 0
        return self.workload.sent / elapsed

    async def poll(self) -> float:
        """Poll one repetition's messages back; messages per second."""
        w = self.workload
        started = time.perf_counter()
        if w.members:
            shares = [len(range(m, w.partitions, w.members)) for m in range(w.members)]
            per_partition = w.polls // w.partitions
            await asyncio.gather(*(self._poll_group(client, per_partition * share)
                                   for client, share in zip(self.pollers, shares, strict=True)))
        else:
            await self._poll_single(self.pollers[0])
        return w.polled / (time.perf_counter() - started)

    async def _poll_single(self, client: IggyClient) -> None:
        w = self.workload
        consumer = Consumer.Single("bench")
        count, auto_commit, stream, topic = w.poll_count, w.auto_commit, self.stream, self.topic
        start = self.first_offset + w.poll_shift
        for i in range(w.polls):
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


def _partitionings(w: Workload) -> list[Partitioning]:
    if w.partitioning == "balanced":
        return [Partitioning.balanced() for _ in range(w.send_batches)]
    if w.partitioning == "key":
        keys = keys_for(w.partitions)
        return [Partitioning.messages_key(keys[i % len(keys)]) for i in range(w.send_batches)]
    return [Partitioning.partition_id(0) for _ in range(w.send_batches)]
