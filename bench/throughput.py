"""Send and poll throughput of the sandbox through the real SDK, beside a null responder.

The null responder answers the same requests without storing anything, so it measures the
SDK's own ceiling on this machine; the ratio sandbox / null is what the project tracks
(target: 0.5 or more for send and for poll). Afterwards the sandbox stores 1M messages in
total and its peak RSS is printed (target: under 200 MB, because the log lives on disk).

Run: ``python -m bench.throughput [--messages 200000] [--batch 1000] [--payload 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from apache_iggy import Consumer, IggyClient, Partitioning, PollingStrategy, SendMessage

from coursekit.scripts import exit_now
from sandbox.launch import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
STREAM, TOPIC = "bench", "throughput"


def start_null_responder(batch: int, payload: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.null_responder", "--poll-count", str(batch),
         "--payload-size", str(payload)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"ready tcp=(\S+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the null responder did not start: {line!r}")
    return process, match.group(1)


async def connect(address: str) -> IggyClient:
    client = IggyClient(address)
    await client.connect()
    await client.login_user("iggy", "iggy")
    return client


async def send_rate(client: IggyClient, batches: int, messages: list[SendMessage]) -> float:
    partitioning = Partitioning.partition_id(0)
    started = time.perf_counter()
    for _ in range(batches):
        await client.send_messages(STREAM, TOPIC, partitioning, messages)
    return batches * len(messages) / (time.perf_counter() - started)


async def poll_rate(client: IggyClient, batches: int, batch: int) -> float:
    consumer = Consumer.Single("bench")
    received = 0
    started = time.perf_counter()
    for i in range(batches):
        polled = await client.poll_messages(
            STREAM, TOPIC, consumer=consumer, partition_id=0,
            polling_strategy=PollingStrategy.Offset(i * batch), count=batch, auto_commit=False)
        received += len(polled)
    elapsed = time.perf_counter() - started
    if received != batches * batch:
        raise SystemExit(f"polled {received} messages, expected {batches * batch}")
    return received / elapsed


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def run(args: argparse.Namespace) -> None:
    batches = args.messages // args.batch
    payload = b"x" * args.payload
    messages = [SendMessage(payload) for _ in range(args.batch)]
    null_process, null_address = start_null_responder(args.batch, args.payload)
    with tempfile.TemporaryDirectory() as data_dir, start_sandbox(data_dir=data_dir) as sandbox:
        try:
            sandbox_client = await connect(sandbox.tcp_address)
            await sandbox_client.create_stream(name=STREAM)
            await sandbox_client.create_topic(stream=STREAM, name=TOPIC, partitions_count=1)
            null_client = await connect(null_address)
            results = {}
            for name, client in (("null responder", null_client), ("sandbox", sandbox_client)):
                results[name] = (await send_rate(client, batches, messages),
                                 await poll_rate(client, batches, args.batch))
            print(f"{args.messages} messages of {args.payload} B in batches of {args.batch}, "
                  f"one run on {os.cpu_count()} cores")
            print(f"{'':16}{'send msg/s':>14}{'poll msg/s':>14}")
            for name, (send, poll) in results.items():
                print(f"{name:16}{send:14,.0f}{poll:14,.0f}")
            (s_send, s_poll), (n_send, n_poll) = results["sandbox"], results["null responder"]
            print(f"{'ratio':16}{s_send / n_send:14.2f}{s_poll / n_poll:14.2f}"
                  "   (target >= 0.5)")
            remaining = max(args.store - args.messages, 0) // args.batch
            await send_rate(sandbox_client, remaining, messages)
            stats = await sandbox_client.get_stats()
            print(f"sandbox peak RSS after storing {stats.messages_count:,} messages: "
                  f"{peak_rss_mb(sandbox.pid):.0f} MB (target < 200 MB)")
        finally:
            null_process.terminate()
            null_process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--payload", type=int, default=100)
    parser.add_argument("--store", type=int, default=1_000_000,
                        help="messages stored in total before the RSS is read")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
    exit_now(0)  # past the SDK threads that can abort interpreter teardown
