"""Poll demo-stream/demo-topic every 500 ms and log each message with its offset.

Run from the repository root: ``python clients/consumer.py [--count N] [--interval S]``.
The consumer's offset is stored on the server as it reads (auto-commit), so a restarted
consumer goes on where it stopped. Stop with Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio

from apache_iggy import Consumer, PollingStrategy
from loguru import logger

from clients.cli import parse_args, run
from helpers.connection import connect
from helpers.resources import ensure_topic

CONSUMER_NAME = "demo-consumer"
BATCH = 10


async def consume(args: argparse.Namespace) -> None:
    client = await connect()
    await ensure_topic(client, args.stream, args.topic)
    logger.info(f"Polling {args.stream}/{args.topic} every {args.interval:g} s")
    seen = 0
    while args.count is None or seen < args.count:
        wanted = BATCH if args.count is None else min(BATCH, args.count - seen)
        messages = await client.poll_messages(
            args.stream,
            args.topic,
            consumer=Consumer.Single(CONSUMER_NAME),
            polling_strategy=PollingStrategy.Next(),
            count=wanted,
            auto_commit=True,
        )
        for message in messages:
            text = message.payload().decode(errors="replace")
            logger.info(f"[offset={message.offset()}] {text}")
        seen += len(messages)
        if args.count is None or seen < args.count:
            await asyncio.sleep(args.interval)
    logger.info(f"Done: {seen} message(s) received.")


if __name__ == "__main__":
    run(consume, parse_args(__doc__.splitlines()[0], default_interval=0.5))
