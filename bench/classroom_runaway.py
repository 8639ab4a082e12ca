"""Runaway cells against one sandbox: what the learner sees, and how much memory the server holds.

Each case is a cell a learner might write by mistake:

- polls of a million messages, over TCP and over HTTP, from a partition holding more than
  one poll returns (a poll stops at 16 MiB, at least one batch);
- the largest batch the 64 MiB frame limit allows, and one past it;
- large batches and polls of a million messages from many clients at once (they share the
  server's 256 MiB budget for large requests in flight);
- a loop that opens clients until the per-host connection limit refuses one;
- an HTTP body past Iggy's 2 MB limit.

After each case the sandbox's resident memory (VmRSS) and its high-water mark (VmHWM) are
read from /proc, and the server must answer a fresh client.

Run: ``python -m bench.classroom_runaway [--scale 1.0]``. Prints each case's outcome and
memory; exits 1 when a case does not get the expected answer or the server stops answering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from apache_iggy import Consumer, IggyClient, PollingStrategy, SendMessage

from bench.memory import memory_mb
from bench.soak import ROOT_ENV, connect
from coursekit.scripts import exit_now
from sandbox.http.errors import TOO_LARGE
from sandbox.launch import SandboxProcess, start_sandbox
from sandbox.state.messages import MAX_POLL_BYTES

STREAM, TOPIC = "runaway", "t"
MIB = 1024 * 1024
MESSAGE = 1000  # payload bytes of the messages the partition is filled with


@dataclass
class Scale:
    """How big each case is; ``full`` is the figure in docs/architecture.md."""

    fill_mb: int  # what the partition holds before the polls
    big_batch_mb: int  # one send of this many MB (under the 64 MiB frame limit)
    senders: int  # clients sending a batch of big_batch_mb at once
    pollers: int  # clients polling a million messages at once
    connections: int  # the server's per-host limit the loop runs into

    @classmethod
    def of(cls, factor: float, connections: int) -> Scale:
        return cls(fill_mb=max(int(100 * factor), 20), big_batch_mb=max(int(60 * factor), 20),
                   senders=max(int(8 * factor), 4), pollers=max(int(32 * factor), 8),
                   connections=connections)


@dataclass
class Case:
    name: str
    outcome: str
    ok: bool
    rss_mb: float
    peak_mb: float


@dataclass
class RunawayReport:
    idle_mb: float = 0.0
    cases: list[Case] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.cases) and all(case.ok for case in self.cases)

    @property
    def peak_mb(self) -> float:
        return max((case.peak_mb for case in self.cases), default=self.idle_mb)

    def lines(self) -> list[str]:
        out = [f"idle: {self.idle_mb:.0f} MB resident"]
        for case in self.cases:
            mark = "ok" if case.ok else "FAILED"
            out.append(f"{case.name}: {case.outcome} [{mark}]; resident {case.rss_mb:.0f} MB, "
                       f"peak so far {case.peak_mb:.0f} MB")
        return out


async def unanswered(address: str, within: float = 20.0) -> str | None:
    """None when a fresh client connects and pings within ``within`` seconds (clients just
    dropped may still hold their connections for a moment), else what went wrong."""
    deadline = time.monotonic() + within
    while True:
        try:
            client = await asyncio.wait_for(connect(address), 10)
            await asyncio.wait_for(client.ping(), 10)
            return None
        except (TimeoutError, RuntimeError) as error:
            if time.monotonic() > deadline:
                return f"a fresh client got {type(error).__name__}({error})"
            await asyncio.sleep(0.5)


async def poll_all(client: IggyClient, count: int) -> list:
    return await client.poll_messages(STREAM, TOPIC, partition_id=0,
                                      consumer=Consumer.Single("runaway"),
                                      polling_strategy=PollingStrategy.First(), count=count,
                                      auto_commit=False)


def http(server: SandboxProcess, method: str, path: str, body: bytes | None = None,
         token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(server.http_url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def fill(client: IggyClient, megabytes: int) -> None:
    batch = [SendMessage(b"f" * MESSAGE) for _ in range(1000)]
    for _ in range(megabytes):
        await client.send_messages(STREAM, TOPIC, 0, batch)


async def case_polls(server: SandboxProcess, client: IggyClient, scale: Scale) -> str:
    polled = await poll_all(client, 1_000_000)
    size = sum(len(m.payload()) for m in polled)
    assert 0 < len(polled) < 1_000_000 and size <= MAX_POLL_BYTES, (len(polled), size)
    token = json.loads(http(server, "POST", "/users/login",
                            json.dumps({"username": "iggy", "password": "iggy"}).encode())[1])
    status, body = http(server, "GET", f"/streams/{STREAM}/topics/{TOPIC}/messages?"
                        "kind=first&count=1000000&partition_id=0",
                        token=token["access_token"]["token"])
    over_http = len(json.loads(body)["messages"]) if status == 200 else 0
    assert over_http == len(polled), (status, over_http, len(polled))
    return (f"count=1000000 returned {len(polled)} messages ({size / MIB:.1f} MiB) over TCP "
            f"and over HTTP; the partition holds {scale.fill_mb * 1000}")


async def case_big_batches(client: IggyClient, address: str, scale: Scale) -> str:
    await client.send_messages(STREAM, TOPIC, 0,
                               [SendMessage(b"b" * (scale.big_batch_mb * 1_000_000))])
    over = await connect(address)
    try:
        await over.send_messages(STREAM, TOPIC, 0, [SendMessage(b"o" * MIB)
                                                     for _ in range(65)])
        seen = "accepted (wrong: past the 64 MiB frame limit)"
    except RuntimeError as error:
        seen = f"RuntimeError({str(error)!r})"
    assert seen.startswith("RuntimeError"), seen
    return (f"one batch of {scale.big_batch_mb} MB stored; a 65 MiB batch: the client saw "
            f"{seen} (the connection is closed, as Iggy does past its frame limit)")


async def case_many_senders(address: str, scale: Scale) -> str:
    clients = [await connect(address) for _ in range(scale.senders)]
    batch = [SendMessage(b"s" * (scale.big_batch_mb * 1_000_000))]
    started = time.monotonic()
    await asyncio.gather(*(c.send_messages(STREAM, TOPIC, 0, batch) for c in clients))
    return (f"{scale.senders} clients sent a {scale.big_batch_mb} MB batch at once, all "
            f"stored in {time.monotonic() - started:.1f} s")


async def case_many_pollers(address: str, scale: Scale) -> str:
    clients = [await connect(address) for _ in range(scale.pollers)]
    started = time.monotonic()
    results = await asyncio.gather(*(poll_all(c, 1_000_000) for c in clients))
    assert all(results), "a poll returned nothing"
    return (f"{scale.pollers} clients polled a million messages at once, "
            f"{sum(map(len, results))} messages in {time.monotonic() - started:.1f} s")


async def case_connection_loop(server: SandboxProcess, scale: Scale,
                               opened: list[IggyClient]) -> str:
    """Open clients into ``opened`` until one is refused (the caller empties the list: a
    refused call's traceback can keep this frame, and so its names, alive for a while)."""
    address = server.tcp_address
    refused = ""
    while len(opened) <= scale.connections:
        try:
            opened.append(await connect(address))
        except RuntimeError as error:
            refused = str(error)
            break
    resident = memory_mb(server.pid)["VmRSS"]
    learner = IggyClient(address)  # what a learner's plain client shows, default settings
    started = time.monotonic()
    try:
        await learner.connect()
        await asyncio.wait_for(learner.login_user("iggy", "iggy"), 60)
        seen = "logged in (wrong: over the limit)"
    except (RuntimeError, TimeoutError) as error:
        seen = f"{type(error).__name__}({str(error)!r})"
    assert 0 < len(opened) <= scale.connections and refused, (len(opened), refused)
    return (f"{len(opened)} more clients opened (the limit counts the host's other open "
            f"connections too; {resident:.0f} MB resident with all open), the next one saw "
            f"{refused!r} (a client without reconnection); a default IggyClient saw {seen} "
            f"after {time.monotonic() - started:.1f} s")


def case_http_body(server: SandboxProcess) -> str:
    status, body = http(server, "POST", "/users/login", b" " * 2_100_000)
    assert (status, body.decode(errors="replace")) == (413, TOO_LARGE), (status, body[:200])
    return f"a 2.1 MB body: HTTP {status} {body[:120].decode(errors='replace')}"


async def run_runaway(server: SandboxProcess, scale: Scale) -> RunawayReport:
    """Run every case against ``server`` (started with ``--max-connections-per-host
    scale.connections``); the figures come back."""
    report = RunawayReport()
    client = await connect(server.tcp_address)
    await client.create_stream(STREAM)
    await client.create_topic(STREAM, TOPIC, partitions_count=1)
    report.idle_mb = memory_mb(server.pid)["VmRSS"]
    await fill(client, scale.fill_mb)
    kept: list[IggyClient] = []

    async def http_case() -> str:
        return case_http_body(server)

    cases = [("poll of a million messages", lambda: case_polls(server, client, scale)),
             ("huge batches", lambda: case_big_batches(client, server.tcp_address, scale)),
             ("many large sends at once", lambda: case_many_senders(server.tcp_address, scale)),
             ("many huge polls at once", lambda: case_many_pollers(server.tcp_address, scale)),
             ("a loop that opens clients", lambda: case_connection_loop(server, scale, kept)),
             ("an HTTP body past 2 MB", http_case)]
    for name, run in cases:
        try:
            outcome, ok = await run(), True
        except (AssertionError, RuntimeError, TimeoutError) as error:
            outcome, ok = f"{type(error).__name__}: {error}", False
        kept.clear()  # the loop's clients close before the next check
        problem = await unanswered(server.tcp_address)
        if problem:
            outcome, ok = f"{outcome}; then the server did not answer: {problem}", False
        memory = memory_mb(server.pid)
        report.cases.append(Case(name, outcome, ok, memory["VmRSS"], memory["VmHWM"]))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="size of the cases (1.0: 100 MB stored, 8 x 60 MB sends, 32 "
                             "pollers)")
    parser.add_argument("--connections", type=int, default=1000,
                        help="the per-host connection limit to run into (default 1000, the "
                             "sandbox's default)")
    args = parser.parse_args(argv)
    scale = Scale.of(args.scale, args.connections)
    with tempfile.TemporaryDirectory(prefix="runaway-") as work:
        log = Path(work) / "sandbox.log"
        with start_sandbox(data_dir=Path(work) / "data", log_file=log,
                           env={**os.environ, **ROOT_ENV},
                           extra_args=("--max-connections-per-host",
                                       str(scale.connections))) as server:
            report = asyncio.run(run_runaway(server, scale))
        print(f"runaway cells against the sandbox ({scale}):")
        for line in report.lines():
            print("  " + line)
        if not report.ok:
            print(f"  FAILED; the server's log ends with:\n{log.read_text()[-4000:]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    exit_now(main())  # past the SDK threads that can abort interpreter teardown
