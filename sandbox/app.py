"""One object that runs the TCP and HTTP fronts and the cleaner on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from sandbox.http.app import HttpFront
from sandbox.server.tcp import MAX_CONNECTIONS_PER_HOST, TcpFront
from sandbox.state.retention import DEFAULT_MAX_MESSAGE_SIZE
from sandbox.state.system import System

log = logging.getLogger("sandbox")


class Sandbox:
    """Start with ``await start(...)``, stop with ``await stop()``. Ports may be 0."""

    def __init__(self, data_dir: Path | None, root_username: str, root_password: str,
                 cleaner_interval: float = 60.0,
                 max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
                 max_connections_per_host: int = MAX_CONNECTIONS_PER_HOST):
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.system = System(data_dir, root_username, root_password, max_message_size)
        self.tcp = TcpFront(self.system, max_connections_per_host)
        self.http = HttpFront(self.system)
        self.cleaner_interval = cleaner_interval
        self.tasks: list[asyncio.Task] = []

    async def start(self, tcp: tuple[str, int], http: tuple[str, int]) -> None:
        host, port = await self.tcp.start(*tcp)
        self.system.tcp_address = f"{host}:{port}"
        host, port = await self.http.start(*http)
        self.system.http_address = f"{host}:{port}"
        self.tasks = [asyncio.create_task(self._clean_forever()),
                      asyncio.create_task(self.tcp.evict_stale_members())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.tcp.stop()
        await self.http.stop()
        self.system.close()

    async def _clean_forever(self) -> None:
        while True:
            await asyncio.sleep(self.cleaner_interval)
            try:
                self.system.clean()
            except OSError:
                log.exception("the cleaner failed; it will try again")
