"""What the producer and consumer scripts share: flags, logging and a clean Ctrl+C.

Both run as ``python clients/producer.py`` and as ``python -m clients.producer`` in the
course's environment, where ``helpers`` and ``clients`` are installed (editable).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

from loguru import logger

from coursekit.scripts import exit_now
from helpers.connection import LoginFailed, ServerNotAvailable
from helpers.resources import course_name

DEFAULT_STREAM = "demo-stream"  # with COURSE_LEARNER=ana: "ana-demo-stream"
DEFAULT_TOPIC = "demo-topic"


def parse_args(description: str, default_interval: float) -> argparse.Namespace:
    """The flags both scripts take: --stream, --topic, --count, --interval."""
    parser = argparse.ArgumentParser(description=description)
    try:
        default_stream = course_name(DEFAULT_STREAM)
    except ValueError as error:  # a COURSE_LEARNER that cannot be part of a name
        parser.error(str(error))
    parser.add_argument(
        "--stream", default=default_stream, help=f"stream name (default: {default_stream})"
    )
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
    no traceback. Exits through ``exit_now`` (see ``coursekit.scripts`` for why)."""
    logger.remove()
    logger.add(sys.stderr, format="{time:HH:mm:ss} | {level: <7} | {message}")
    # Started in the background by a shell without job control (a script's `cmd &`), a
    # process inherits SIGINT ignored, and Python then leaves Ctrl+C ignored: restore it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 0
    try:
        asyncio.run(main(args))
    except KeyboardInterrupt:
        logger.info("Stopped (Ctrl+C).")
    except (ServerNotAvailable, LoginFailed) as error:
        logger.error(str(error))
        code = 1
    exit_now(code)
