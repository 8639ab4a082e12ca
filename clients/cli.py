"""What the producer and consumer scripts share: flags, logging and a clean Ctrl+C.

Both run as ``python clients/producer.py`` and as ``python -m clients.producer``; the
scripts put the repository root on ``sys.path`` so ``helpers`` imports either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

from loguru import logger

from helpers.connection import LoginFailed, ServerNotAvailable
from helpers.scripts import exit_now

DEFAULT_STREAM = "sample-stream"
DEFAULT_TOPIC = "sample-topic"


def parse_args(description: str, default_interval: float) -> argparse.Namespace:
    """The flags both scripts take: --stream, --topic, --count, --interval."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stream", default=DEFAULT_STREAM, help="stream name (created if missing)")
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help="topic name (created if missing)")
    parser.add_argument(
        "--count", type=int, default=None, help="stop after N messages (default: run until Ctrl+C)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=default_interval,
        help=f"seconds between messages or polls (default: {default_interval:g})",
    )
    args = parser.parse_args()
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.interval < 0:
        parser.error("--interval cannot be negative")
    return args


def run(
    main: Callable[[argparse.Namespace], Awaitable[None]], args: argparse.Namespace
) -> NoReturn:
    """Run ``main(args)`` and exit; Ctrl+C and a missing server end it with a message and
    no traceback. Exits through ``exit_now`` (see ``helpers.scripts`` for why)."""
    logger.remove()
    logger.add(sys.stderr, format="{time:HH:mm:ss} | {level: <7} | {message}")
    code = 0
    try:
        asyncio.run(main(args))
    except KeyboardInterrupt:
        logger.info("Stopped (Ctrl+C).")
    except (ServerNotAvailable, LoginFailed) as error:
        logger.error(str(error))
        code = 1
    exit_now(code)
