"""Command line: ``python -m sandbox [--tcp HOST:PORT] [--http HOST:PORT] [--data-dir DIR |
--in-memory]``.

Prints one ready line when both fronts accept connections, stops cleanly on SIGINT or
SIGTERM, and restarts in place on SIGHUP (same PID and ports, state reloaded from disk), so
a notebook can show what survives a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import ipaddress
import logging
import math
import os
import shutil
import signal
import sys
from pathlib import Path

from sandbox import __version__
from sandbox.app import Sandbox
from sandbox.launch import EXIT_DISK_FULL
from sandbox.server.tcp import MAX_CONNECTIONS_PER_HOST
from sandbox.state import units
from sandbox.state.refusals import is_disk_full
from sandbox.state.retention import DEFAULT_MAX_MESSAGE_SIZE
from sandbox.storage.metadata import CorruptMetadata
from sandbox.storage.segments import CorruptLog

log = logging.getLogger("sandbox")
MAX_MESSAGE_SIZE_ENV = "IGGY_MESSAGE_BUS_MAX_MESSAGE_SIZE"  # the real server's variable
CLEANER_INTERVAL_ENV = "IGGY_DATA_MAINTENANCE_MESSAGES_INTERVAL"  # the real server's variable

LOW_SPACE = 1 << 20  # bytes free under the data folder below which the start warns


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (e.g. 127.0.0.1:8090), got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A pure-Python server that speaks Apache Iggy 0.9.0's binary TCP protocol "
                    "and HTTP REST API, for the course and its tests. The root user is "
                    "IGGY_ROOT_USERNAME / IGGY_ROOT_PASSWORD (iggy / iggy when unset).")
    parser.add_argument("--tcp", type=address, default=("127.0.0.1", 8090), metavar="HOST:PORT",
                        help="binary protocol address (default 127.0.0.1:8090; port 0 picks "
                             "a free one)")
    parser.add_argument("--http", type=address, default=("127.0.0.1", 3000),
                        metavar="HOST:PORT", help="HTTP API address (default 127.0.0.1:3000)")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", type=Path, default=Path(".sandbox-data"),
                         help="where streams, messages, users and offsets are kept "
                              "(default .sandbox-data)")
    storage.add_argument("--in-memory", action="store_true",
                         help="keep nothing: all state is lost when the server stops")
    parser.add_argument("--cleaner-interval", type=interval_seconds,
                        default=os.environ.get(CLEANER_INTERVAL_ENV, "60"), metavar="SECONDS",
                        help="how often expired and over-size segments are deleted: seconds, "
                             "or a duration such as '1s' or '1 m' (default "
                             f"${CLEANER_INTERVAL_ENV}, as Iggy reads it, or 60)")
    parser.add_argument("--max-message-size", type=byte_size,
                        default=os.environ.get(MAX_MESSAGE_SIZE_ENV, DEFAULT_MAX_MESSAGE_SIZE),
                        metavar="BYTES",
                        help="Iggy's [message_bus] max_message_size, which sets the floor of a "
                             "topic's size cap: each partition keeps at least segment size + "
                             f"this many bytes of sealed segments (default ${MAX_MESSAGE_SIZE_ENV} "
                             "or 64 MiB, as Iggy)")
    parser.add_argument("--max-connections-per-host", type=int,
                        default=MAX_CONNECTIONS_PER_HOST, metavar="N",
                        help="binary-protocol connections one machine may keep open; more are "
                             "refused with 'Cannot establish connection' (default "
                             f"{MAX_CONNECTIONS_PER_HOST})")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log verbosity on stderr (default INFO)")
    args = parser.parse_args(argv)
    if args.max_connections_per_host < 1:
        parser.error("--max-connections-per-host must be at least 1")
    return args


def interval_seconds(text: str) -> float:
    """Seconds from "60" or "0.5", or from a duration as Iggy writes it ("1s", "1 m")."""
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = units.duration_micros(text) / 1_000_000
        except ValueError:
            seconds = 0
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds or a duration "
                                         f"such as '1s' or '1 m' (here or in "
                                         f"${CLEANER_INTERVAL_ENV}), got {text!r}")
    return seconds


def byte_size(text: str) -> int:
    """A byte count such as 2097152 or "2 MiB", as Iggy reads its size settings."""
    try:
        size = units.byte_size(text)
    except ValueError:
        size = 0
    if size <= 0:
        raise argparse.ArgumentTypeError(f"expected a byte size (e.g. 2097152 or '2 MiB'), "
                                         f"got {text!r}")
    return size


def root_credentials() -> tuple[str, str]:
    username = os.environ.get("IGGY_ROOT_USERNAME")
    password = os.environ.get("IGGY_ROOT_PASSWORD")
    if (username is None) != (password is None):
        raise SystemExit("error: set both IGGY_ROOT_USERNAME and IGGY_ROOT_PASSWORD, or neither "
                         "(then the root user is iggy / iggy)")
    return username or "iggy", password or "iggy"


def warn_if_exposed(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        log.warning("listening on %s, beyond this machine: the default credentials (iggy/iggy) "
                    "are public knowledge; set IGGY_ROOT_USERNAME and IGGY_ROOT_PASSWORD", host)


async def serve(args: argparse.Namespace) -> bool:
    """Run until a stop signal; True when SIGHUP asked for a restart."""
    data_dir = None if args.in_memory else args.data_dir.resolve()
    sandbox = Sandbox(data_dir, *root_credentials(), cleaner_interval=args.cleaner_interval,
                      max_message_size=args.max_message_size,
                      max_connections_per_host=args.max_connections_per_host)
    await sandbox.start(args.tcp, args.http)
    for host in {args.tcp[0], args.http[0]}:
        warn_if_exposed(host)
    if data_dir is not None and (free := shutil.disk_usage(data_dir).free) < LOW_SPACE:
        log.warning("the disk holding %s is full or nearly (%d bytes free): reads work, but "
                    "sends and changes are refused until space is freed", data_dir, free)
    print(f"iggy-sandbox ready tcp={sandbox.system.tcp_address} "
          f"http=http://{sandbox.system.http_address} data={data_dir or 'in-memory'}",
          flush=True)
    log.info("Iggy sandbox %s serving (Ctrl+C to stop)", __version__)
    stop = asyncio.Event()
    restart = False

    def on_signal(signum: int) -> None:
        nonlocal restart
        restart = signum == signal.SIGHUP
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)
    await stop.wait()
    log.info("restarting" if restart else "stopping")
    if restart:
        args.tcp = address(sandbox.system.tcp_address)
        args.http = address(sandbox.system.http_address)
    await sandbox.stop()
    return restart


def start_failure(error: OSError, args: argparse.Namespace) -> str:
    """Why the start failed, in words that point at the fix."""
    if is_disk_full(error):
        return (f"the disk is full ({error.strerror}) where it keeps its data ({args.data_dir}) "
                "or writes its log. Free some space there, or pass another --data-dir.")
    if error.errno == errno.EADDRINUSE or "bind" in str(error):
        return (f"{error}. Is another server already using that port? Pick others with "
                "--tcp/--http.")
    return str(error)


def say(message: str) -> None:
    """Print to stderr, which may sit on the full disk that stopped the start."""
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        restart = asyncio.run(serve(args))
    except (CorruptMetadata, CorruptLog) as error:
        say(f"error: {error}")
        return 2
    except OSError as error:
        say(f"error: cannot start the sandbox: {start_failure(error, args)}")
        return EXIT_DISK_FULL if is_disk_full(error) else 1
    if restart:
        argv = [sys.executable, "-m", "sandbox", "--tcp", "{}:{}".format(*args.tcp),
                "--http", "{}:{}".format(*args.http),
                "--cleaner-interval", str(args.cleaner_interval),
                "--max-message-size", str(args.max_message_size), "--log-level", args.log_level,
                "--max-connections-per-host", str(args.max_connections_per_host)]
        argv += ["--in-memory"] if args.in_memory else ["--data-dir", str(args.data_dir)]
        sys.stdout.flush()
        os.execv(sys.executable, argv)
    return 0
