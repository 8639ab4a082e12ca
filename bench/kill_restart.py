"""Crash the sandbox with SIGKILL at random points of a send loop, restart it on the same data
directory and ports, and check that nothing acknowledged was lost.

Every round restarts the server (it must always start), then checks, partition by
partition, that each message acknowledged so far is still at its offset with its payload,
that offsets stay dense (no hole, no duplicate), that no partition got shorter and that no
stored consumer offset moved backwards. Then it sends batches of random size to random
partitions, storing a consumer offset now and then, until a SIGKILL lands at a random
moment. The one batch that was in flight when the kill landed may or may not be there
afterwards (it was never acknowledged); if it is, it must be whole, right after the
partition's last message, with its own payloads. Anything else found beyond what was
acknowledged (a replayed batch, a message nobody sent) is a failure, and so is a send the
server refused while it was up.

Run: ``python -m bench.kill_restart [--kills 20] [--partitions 3] [--seed 1]``. Prints the
kills survived, messages acknowledged and found, and lost (must be 0); exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from apache_iggy import Consumer, IggyClient, PollingStrategy, SendMessage

from bench.soak import ROOT_ENV, connect
from coursekit.scripts import exit_now
from sandbox.launch import SandboxProcess, SandboxStartError, start_sandbox

STREAM, TOPIC = "crash", "log"
CONSUMER_ID = 42  # the single consumer whose stored offsets are tracked
POLL_CHUNK = 1000


@dataclass
class Ledger:
    """What the server acknowledged, and the highest values seen so far."""

    acked: dict[tuple[int, int], bytes] = field(default_factory=dict)  # (partition, offset)
    stored: dict[int, int] = field(default_factory=dict)  # partition -> stored offset, acked
    lengths: dict[int, int] = field(default_factory=dict)  # partition -> messages seen
    lost: set[tuple[int, int]] = field(default_factory=set)  # acked, later missing or changed
    in_flight: tuple[int, list[bytes]] | None = None  # (partition, payloads) sent, not acked
    kept: dict[tuple[int, int], bytes] = field(default_factory=dict)  # in flight, found later


@dataclass
class KillReport:
    kills: int = 0
    survived: int = 0  # restarts after which every check passed
    acked: int = 0
    found: int = 0  # acknowledged messages found at their offsets after the last restart
    lost: int = 0  # acknowledged messages missing (or changed) after any restart
    kept_in_flight: int = 0  # messages of an in-flight batch that made it anyway (allowed)
    phantoms: int = 0  # found beyond what was acknowledged, not the in-flight batch
    holes: int = 0  # offsets missing or repeated inside a partition
    backwards: int = 0  # partition lengths or stored offsets that went down
    refused: list[str] = field(default_factory=list)  # sends refused while the server was up
    start_failures: list[str] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)
    torn_tails: int = 0  # torn-tail files the server set aside while recovering

    @property
    def ok(self) -> bool:
        return (self.lost == self.holes == self.backwards == self.phantoms == 0
                and not self.start_failures and not self.refused and self.survived == self.kills)

    def lines(self) -> list[str]:
        restart = (f"{min(self.restart_seconds):.2f}-{max(self.restart_seconds):.2f} s"
                   if self.restart_seconds else "n/a")
        return [
            f"kills: {self.kills}, survived: {self.survived}, server failed to start: "
            f"{len(self.start_failures)}",
            f"messages acknowledged: {self.acked}, found after the last restart: {self.found}, "
            f"lost: {self.lost}",
            f"messages of in-flight batches kept anyway: {self.kept_in_flight}; found beyond "
            f"what was acknowledged or in flight: {self.phantoms}; offset holes or repeats: "
            f"{self.holes}; lengths or stored offsets that went backwards: {self.backwards}",
            f"sends refused while the server was up: {len(self.refused)}; restart time: "
            f"{restart}; torn tails cut during recovery: {self.torn_tails}",
            *(f"start failure: {failure}" for failure in self.start_failures),
            *(f"refused: {refusal}" for refusal in self.refused[:10]),
        ]


def _identifier(text: str) -> bytes:
    return b"\x02" + bytes([len(text)]) + text.encode()


def _offset_target(partition: int) -> bytes:
    return (b"\x01\x01\x04" + struct.pack("<I", CONSUMER_ID) + _identifier(STREAM)
            + _identifier(TOPIC) + b"\x01" + struct.pack("<I", partition))


async def store_offset(client: IggyClient, partition: int, offset: int) -> None:
    """StoreConsumerOffset (code 121) through the SDK's raw-command door."""
    await client.send_binary_request(121, _offset_target(partition) + struct.pack("<Q", offset)
                                     + b"\x01")


async def stored_offset(client: IggyClient, partition: int) -> int | None:
    reply = await client.send_binary_request(120, _offset_target(partition))
    return struct.unpack_from("<Q", reply, 12)[0] if reply else None


async def read_partition(client: IggyClient, partition: int) -> list[tuple[int, bytes]]:
    messages: list[tuple[int, bytes]] = []
    while True:
        polled = await client.poll_messages(
            STREAM, TOPIC, consumer=Consumer.Single("verifier"), partition_id=partition,
            polling_strategy=PollingStrategy.Offset(len(messages)), count=POLL_CHUNK,
            auto_commit=False)
        messages += [(m.offset(), m.payload()) for m in polled]
        if len(polled) < POLL_CHUNK:
            return messages


async def verify(client: IggyClient, ledger: Ledger, partitions: int,
                 report: KillReport) -> bool:
    """Check everything acknowledged so far; True when this restart kept all of it."""
    clean = True
    report.found = 0
    for partition in range(partitions):
        messages = await read_partition(client, partition)
        if [offset for offset, _ in messages] != list(range(len(messages))):
            report.holes += 1
            clean = False
        stored = dict(messages)
        acked = {o: p for (part, o), p in ledger.acked.items() if part == partition}
        missing = {(partition, o) for o, p in acked.items() if stored.get(o) != p}
        ledger.lost |= missing
        report.found += len(acked) - len(missing)
        beyond = {o: p for o, p in stored.items()
                  if o not in acked and (partition, o) not in ledger.kept}
        if beyond and _is_the_in_flight_batch(ledger.in_flight, partition, beyond, len(stored)):
            ledger.kept.update(((partition, o), p) for o, p in beyond.items())
            report.kept_in_flight += len(beyond)
        elif beyond:
            report.phantoms += len(beyond)
            clean = False
        if len(stored) < ledger.lengths.get(partition, 0):
            report.backwards += 1
            clean = False
        ledger.lengths[partition] = max(len(stored), ledger.lengths.get(partition, 0))
        offset = await stored_offset(client, partition)
        if partition in ledger.stored and (offset is None or offset < ledger.stored[partition]):
            report.backwards += 1
            clean = False
        clean = clean and not missing
    ledger.in_flight = None  # judged: kept, or gone for good (found later, it is a phantom)
    report.lost = len(ledger.lost)
    return clean


def _is_the_in_flight_batch(in_flight: tuple[int, list[bytes]] | None, partition: int,
                            beyond: dict[int, bytes], length: int) -> bool:
    """Messages found beyond the acknowledged ones are allowed only as the whole batch that
    was in flight when the kill landed, at the end of its partition."""
    if in_flight is None or in_flight[0] != partition:
        return False
    payloads = in_flight[1]
    first = length - len(payloads)
    return beyond == {first + i: payload for i, payload in enumerate(payloads)}


async def send_until_killed(client: IggyClient, ledger: Ledger, rng: random.Random,
                            partitions: int, round_: int, killed: asyncio.Event,
                            report: KillReport) -> None:
    sequence = 0
    while True:
        partition = rng.randrange(partitions)
        payloads = [f"round{round_}-{sequence + i}".encode() for i in range(rng.randint(1, 20))]
        sequence += len(payloads)
        ledger.in_flight = (partition, payloads)
        try:
            sent = await client.send_messages(STREAM, TOPIC, partition,
                                              [SendMessage(p) for p in payloads])
            ledger.in_flight = None
            base = sent.confirmations[0].base_offset
            for i, payload in enumerate(payloads):
                ledger.acked[(partition, base + i)] = payload
            if rng.random() < 0.3:
                await store_offset(client, partition, base + len(payloads) - 1)
                ledger.stored[partition] = base + len(payloads) - 1
        except RuntimeError as error:
            if not killed.is_set():  # refused by a server that is up: the round fails
                report.refused.append(f"round {round_ + 1}: {error}")
            return


async def crash_round(server: SandboxProcess, ledger: Ledger, rng: random.Random,
                      partitions: int, round_: int, max_delay: float,
                      report: KillReport) -> None:
    """Send until a SIGKILL lands at a random moment."""
    client = await connect(server.tcp_address)
    killed = asyncio.Event()
    sender = asyncio.ensure_future(send_until_killed(client, ledger, rng, partitions, round_,
                                                     killed, report))
    await asyncio.sleep(rng.uniform(0.02, max_delay))
    killed.set()
    server.kill()
    await asyncio.wait_for(sender, 30)


async def run_kill_restart(data_dir: Path, kills: int, partitions: int = 3, seed: int = 1,
                           max_delay: float = 0.6, log_file: Path | None = None) -> KillReport:
    """Kill and restart a sandbox on ``data_dir`` ``kills`` times; the figures come back."""
    rng = random.Random(seed)
    report, ledger = KillReport(), Ledger()
    env = {**os.environ, **ROOT_ENV}
    server = start_sandbox(data_dir=data_dir, log_file=log_file, env=env)
    tcp, http = server.tcp_address, server.http_url.removeprefix("http://")
    try:
        client = await connect(tcp)
        await client.create_stream(STREAM)
        await client.create_topic(STREAM, TOPIC, partitions_count=partitions)
        for round_ in range(kills):
            await crash_round(server, ledger, rng, partitions, round_, max_delay, report)
            report.kills += 1
            started = time.monotonic()
            try:
                server = start_sandbox(tcp=tcp, http=http, data_dir=data_dir,
                                       log_file=log_file, env=env)
            except SandboxStartError as error:
                report.start_failures.append(f"after kill {round_ + 1}: {error}")
                break
            report.restart_seconds.append(time.monotonic() - started)
            report.survived += await verify(await connect(tcp), ledger, partitions, report)
    finally:
        server.stop()
    report.acked = len(ledger.acked)
    report.torn_tails = len(list(data_dir.rglob("*.torn-*")))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=0.6,
                        help="longest send time before a kill, seconds (default 0.6)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kill-restart-") as work:
        data_dir, log = Path(work) / "data", Path(work) / "sandbox.log"
        report = asyncio.run(run_kill_restart(data_dir, args.kills, args.partitions,
                                              args.seed, args.max_delay, log))
        print(f"kill/restart: {args.kills} SIGKILLs during sends, {args.partitions} "
              f"partitions, seed {args.seed}, against the sandbox")
        for line in report.lines():
            print("  " + line)
        if not report.ok:
            print(f"  FAILED; the server's log:\n{log.read_text()[-4000:]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    exit_now(main())  # past the SDK threads that can abort interpreter teardown
