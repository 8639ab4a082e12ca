"""Record a real Iggy server's answers as the golden files.

    python -m tests.parity.record --tcp 127.0.0.1:8090 --http http://127.0.0.1:3000 \\
        --cleaner-interval 1

Start the server yourself, fresh (an empty data directory, so ids start at 0), with root
``iggy``/``iggy`` and its segment cleaner running every ``--cleaner-interval`` seconds
(``IGGY_DATA_MAINTENANCE_MESSAGES_INTERVAL``). This only records: it never builds or
starts a server. ``--scenario NAME`` (repeatable) records only those scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from apache_iggy import IggyClient

from tests.parity import golden
from tests.parity.exchange import Session, Target
from tests.parity.run import run_all
from tests.parity.scenarios import SCENARIOS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.parity.record",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcp", required=True, metavar="HOST:PORT",
                        help="the real server's binary protocol address")
    parser.add_argument("--http", required=True, metavar="URL",
                        help="the real server's HTTP address, e.g. http://127.0.0.1:3000")
    parser.add_argument("--cleaner-interval", type=float, required=True, metavar="SECONDS",
                        help="the interval the server's segment cleaner was started with")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="record only this scenario (repeatable)")
    return parser.parse_args(argv)


async def record(args: argparse.Namespace) -> int:
    target = Target(args.tcp, args.http, args.cleaner_interval)
    version = await _server_version(target)
    if "sandbox" in version:
        print(f"error: {args.tcp} is the course sandbox ({version}); the golden files must "
              "come from a real Iggy server", file=sys.stderr)
        return 2
    results = await run_all(target, args.scenario)
    for name, exchanges in results.items():
        path = golden.write_scenario(name, exchanges)
        print(f"{len(exchanges):4d} exchanges  {path.name}")
    golden.write_recording({"server_version": version,
                            "cleaner_interval_seconds": args.cleaner_interval})
    print(f"{sum(map(len, results.values()))} exchanges recorded from Iggy {version}")
    return 0


async def _server_version(target: Target) -> str:
    session = Session(target)
    try:
        client: IggyClient = await session.connect()
        return (await client.get_stats()).iggy_server_version
    finally:
        await session.close()


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(record(parse_args(argv)))


if __name__ == "__main__":
    from coursekit.scripts import exit_now

    exit_now(main())
