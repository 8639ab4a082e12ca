"""Send {"id": n, "text": "hello from producer", "ts": ...} to demo-stream/demo-topic every second.

Run from the repository root: ``python clients/producer.py [--count N] [--interval S]``.
Stop with Ctrl+C. The server comes from the course settings (IGGY_TCP_ADDRESS, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime

from apache_iggy import Partitioning, SendMessage
from loguru import logger

from clients.cli import parse_args, run
from helpers.connection import connect
from helpers.resources import ensure_topic


def demo_message(n: int) -> dict:
    """The n-th message: its number, a greeting and the local time it was made (ISO 8601)."""
    return {"id": n, "text": "hello from producer", "ts": datetime.now().isoformat()}


async def produce(args: argparse.Namespace) -> None:
    client = await connect()
    await ensure_topic(client, args.stream, args.topic)
    logger.info(f"Sending to {args.stream}/{args.topic} every {args.interval:g} s")
    n = 0
    while args.count is None or n < args.count:
        payload = json.dumps(demo_message(n))
        await client.send_messages(
            args.stream, args.topic, Partitioning.balanced(), [SendMessage(payload)]
        )
        logger.info(f"Sent message #{n}: {payload}")
        n += 1
        if args.count is None or n < args.count:
            await asyncio.sleep(args.interval)
    logger.info(f"Done: {n} message(s) sent.")


if __name__ == "__main__":
    run(produce, parse_args(__doc__.splitlines()[0], default_interval=1.0))
