"""Send and poll throughput of the sandbox through the real SDK, beside a null responder.

For every workload of ``bench.workloads`` the same client process measures, in turn, the
null responder (a server that stores nothing: the SDK's own ceiling on this machine), the
sandbox and, when ``--real`` is given, a running Apache Iggy. One warm-up repetition, then
at least five measured ones; within each the servers take turns every few milliseconds, in
a rotating order, so that a busy machine slows them alike. Each repetition gives a ratio
sandbox / null (and sandbox / real) for send and for poll. The table shows each ratio's
median and its spread (lowest..highest). The sandbox must reach 0.8 of the ceiling
on every TCP workload and 0.5 over HTTP, send and poll, and its peak RSS must stay under
200 MB (the log lives on disk): the script exits 1 and names every figure that misses.

Run: ``python -m bench.throughput [--reps 7] [--only uniform,mixed]
[--real 127.0.0.1:8090 --real-http http://127.0.0.1:3000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.memory import memory_mb
from bench.phases import BenchError, Server, WorkloadRun
from bench.workloads import HTTP, WORKLOADS, Workload
from coursekit.scripts import exit_now
from sandbox.launch import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
MIN_REPS = 5
DEFAULT_REPS = 7
RSS_TARGET_MB = 200
# Each phase alternates between the servers in slices of some 20 ms, so that whatever else
# the machine does at that moment weighs on every server alike
SLICES = 8
PHASES = ("send", "poll")


@dataclass
class Figures:
    """One workload's rates (msg/s) per server and phase, one entry per repetition."""

    workload: Workload
    rates: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, server: str, phase: str, rate: float) -> None:
        self.rates.setdefault((server, phase), []).append(rate)

    def ratios(self, server: str, baseline: str, phase: str) -> list[float]:
        """``server / baseline`` per repetition (both measured in the same repetition)."""
        return [a / b for a, b in zip(self.rates[(server, phase)],
                                      self.rates[(baseline, phase)], strict=True)]

    def has(self, server: str) -> bool:
        return (server, "send") in self.rates


def start_null_responder(workload: Workload) -> tuple[subprocess.Popen, Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.null_responder", "--payloads", workload.payloads.spec(),
         "--partitions", str(workload.partitions)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"ready tcp=(\S+) http=(\S+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the null responder did not start: {line!r}")
    return process, Server("null", match.group(1), f"http://{match.group(2)}", stores=False)


async def measure(workload: Workload, servers: list[Server], reps: int) -> Figures:
    """A warm-up repetition, then ``reps`` measured ones; the servers take turns, slice by
    slice, in an order that rotates."""
    figures = Figures(workload)
    runs = [WorkloadRun(workload, server) for server in servers]
    for run in runs:
        await run.open()
    try:
        for rep in range(reps + 1):
            for phase in PHASES:
                done = {run.server.name: [0, 0.0] for run in runs}
                for part in range(SLICES):
                    turn = (rep + part) % len(runs)
                    for run in runs[turn:] + runs[:turn]:
                        messages, seconds = await getattr(run, phase)(part, SLICES)
                        done[run.server.name][0] += messages
                        done[run.server.name][1] += seconds
                if rep:  # repetition 0 warms up caches and connections
                    for name, (messages, seconds) in done.items():
                        figures.add(name, phase, messages / seconds)
    finally:
        for run in runs:
            await run.close()
    return figures


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f} ({min(values):.2f}-{max(values):.2f})"


def report(all_figures: list[Figures], real: bool) -> list[str]:
    """Print the table; return the misses (median below target), one line each."""
    misses = []
    header = f"{'workload':<12}{'phase':<6}{'null msg/s':>12}{'sandbox':>10}"
    header += f"{'real':>10}" if real else ""
    header += f"   {'sandbox/null, median (spread)':<31}" + ("sandbox/real" if real else "")
    print(header)
    for figures in all_figures:
        w = figures.workload
        for phase in PHASES:
            rates = [statistics.median(figures.rates[(name, phase)])
                     for name in ("null", "sandbox", "real") if figures.has(name)]
            ratios = figures.ratios("sandbox", "null", phase)
            median = statistics.median(ratios)
            mark = "" if median >= w.target else f"  < {w.target} MISSED"
            line = f"{w.name:<12}{phase:<6}" + "".join(f"{rate:>12,.0f}" if i == 0 else
                                                       f"{rate:>10,.0f}"
                                                       for i, rate in enumerate(rates))
            line += f"   {spread(ratios) + mark:<31}"
            if figures.has("real"):
                line += spread(figures.ratios("sandbox", "real", phase))
            print(line)
            if median < w.target:
                misses.append(f"{w.name} {phase}: median sandbox/null {median:.2f} is below "
                              f"the target {w.target} ({w.describe()})")
    return misses


async def run(args: argparse.Namespace) -> int:
    chosen = [w for w in WORKLOADS if not args.only or w.name in args.only]
    for workload in chosen:
        workload.check()
    print(f"{len(chosen)} workloads, 1 warm-up + {args.reps} repetitions each, on "
          f"{os.cpu_count()} cores; ratios are per repetition, median (lowest-highest)")
    for workload in chosen:
        print(f"  {workload.name:<12}{workload.describe()}")
    all_figures = []
    with tempfile.TemporaryDirectory() as data_dir, start_sandbox(data_dir=data_dir) as sandbox:
        sandbox_server = Server("sandbox", sandbox.tcp_address, sandbox.http_url)
        for workload in chosen:
            null_process, null_server = start_null_responder(workload)
            servers = [null_server, sandbox_server]
            if args.real and (workload.transport != HTTP or args.real_http):
                servers.append(Server("real", args.real, args.real_http or "",
                                      username=args.username, password=args.password))
            try:
                all_figures.append(await measure(workload, servers, args.reps))
            except BenchError as error:
                print(f"FAILED: {error}")
                return 1
            finally:
                null_process.terminate()
                null_process.wait(10)
        print()
        misses = report(all_figures, bool(args.real))
        rss = memory_mb(sandbox.pid).get("VmHWM", float("nan"))
        stored = sum(f.workload.sent * (args.reps + 1) for f in all_figures)
        print(f"\nsandbox peak RSS after storing {stored:,} messages: {rss:.0f} MB "
              f"(target < {RSS_TARGET_MB} MB)")
        if rss >= RSS_TARGET_MB:
            misses.append(f"sandbox peak RSS {rss:.0f} MB is not below {RSS_TARGET_MB} MB")
    if misses:
        print("\nbelow target:")
        for miss in misses:
            print(f"  {miss}")
        return 1
    print("\nevery median meets its target")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS,
                        help=f"measured repetitions per workload (at least {MIN_REPS})")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=set(),
                        help="comma-separated workload names: " +
                        ", ".join(w.name for w in WORKLOADS))
    parser.add_argument("--real", metavar="HOST:PORT",
                        help="also measure a running Apache Iggy at this TCP address")
    parser.add_argument("--real-http", metavar="URL",
                        help="its HTTP API (e.g. http://127.0.0.1:3000), for the HTTP workloads")
    parser.add_argument("--username", default=os.environ.get("IGGY_USERNAME", "iggy"),
                        help="the real server's user (default: IGGY_USERNAME or iggy)")
    parser.add_argument("--password", default=os.environ.get("IGGY_PASSWORD", "iggy"))
    args = parser.parse_args()
    if args.reps < MIN_REPS:
        parser.error(f"--reps must be at least {MIN_REPS}: fewer cannot tell noise from a miss")
    unknown = args.only - {w.name for w in WORKLOADS}
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    return asyncio.run(run(args))


if __name__ == "__main__":
    exit_now(main())  # past the SDK threads that can abort interpreter teardown
