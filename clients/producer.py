"""Send one JSON sensor reading per second to sample-stream/sample-topic.

Run from the repository root: ``python clients/producer.py [--count N] [--interval S]``.
Stop with Ctrl+C. The server comes from the course settings (IGGY_TCP_ADDRESS, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `helpers` and `clients` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apache_iggy import Partitioning, SendMessage
from loguru import logger

from clients.cli import parse_args, run
from helpers.connection import connect
from helpers.resources import ensure_topic

SENSORS = ("boiler", "fridge", "garage")


def reading(n: int) -> dict:
    """The n-th message: an id, a sensor, a value and the time it was made."""
    return {
        "id": n,
        "sensor": SENSORS[n % len(SENSORS)],
        "value": round(random.uniform(15.0, 25.0), 2),
        "ts": time.time(),
    }


async def produce(args: argparse.Namespace) -> None:
    client = await connect()
    await ensure_topic(client, args.stream, args.topic)
    logger.info(f"Sending to {args.stream}/{args.topic} every {args.interval:g} s")
    n = 0
    while args.count is None or n < args.count:
        payload = json.dumps(reading(n))
        await client.send_messages(
            args.stream, args.topic, Partitioning.balanced(), [SendMessage(payload)]
        )
        logger.info(f"sent {payload}")
        n += 1
        if args.count is None or n < args.count:
            await asyncio.sleep(args.interval)
    logger.info(f"Done: {n} message(s) sent.")


if __name__ == "__main__":
    run(produce, parse_args(__doc__.splitlines()[0], default_interval=1.0))
