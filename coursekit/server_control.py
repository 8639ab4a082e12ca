"""Restart the server a notebook talks to, and wait until it answers again.

The local sandbox restarts in place on SIGHUP (same PID, ports and data directory); the
real Apache Iggy runs in Docker, so the learner is shown the command to run instead.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

from apache_iggy import AutoLogin, IggyClient, TcpConfig, TcpReconnectionConfig

from coursekit.network import port_answers
from coursekit.settings import get_settings
from helpers.connection import ServerInfo, server_info

SANDBOX_RESTART_TIMEOUT = 30.0  # seconds
DOCKER_RESTART_TIMEOUT = 180.0  # seconds: the learner has to type the command
CHECK_INTERVAL = 0.2  # seconds between checks


async def restart_server(
    client_or_info: IggyClient | ServerInfo, *, timeout: float | None = None
) -> ServerInfo:
    """Restart the server and return its new ``ServerInfo`` once it answers again.

    The old client does not survive a restart reliably: reconnect with ``connect()``.
    Raises ``TimeoutError`` when the server is not back within ``timeout`` seconds.
    """
    info = client_or_info
    if not isinstance(info, ServerInfo):
        info = await server_info(client_or_info)
    if info.kind == "sandbox":
        try:
            os.kill(info.process_id, signal.SIGHUP)
        except ProcessLookupError:
            raise RuntimeError(
                f"The sandbox's process {info.process_id} is not on this machine, so it "
                "cannot be restarted from here."
            ) from None
        print(f"Restarting {info.name} (PID {info.process_id})...")
        timeout = SANDBOX_RESTART_TIMEOUT if timeout is None else timeout
    else:
        print(
            f"{info.name} runs in Docker: restart it from a terminal in the course folder:\n"
            "  docker compose restart iggy\n"
            f"Waiting for it to come back (up to {timeout or DOCKER_RESTART_TIMEOUT:g} s)..."
        )
        timeout = DOCKER_RESTART_TIMEOUT if timeout is None else timeout
    restarted = await _wait_for_restart(info, timeout)
    print(f"{restarted.name} is back at {restarted.address}.")
    return restarted


async def _wait_for_restart(before: ServerInfo, timeout: float) -> ServerInfo:
    """Poll until the server answers with a new start time (or after it was seen down)."""
    deadline = time.monotonic() + timeout
    seen_down = False
    while time.monotonic() < deadline:
        if not await port_answers(before.address, timeout=CHECK_INTERVAL * 2):
            seen_down = True
        else:
            now = await _probe(before.address)
            if now is not None and (seen_down or now.start_time != before.start_time):
                return now
            seen_down = seen_down or now is None
        await asyncio.sleep(CHECK_INTERVAL)
    raise TimeoutError(f"{before.name} did not come back at {before.address} within {timeout:g} s.")


async def _probe(address: str) -> ServerInfo | None:
    """Log in on a throwaway client and read the server's identity; None if not ready."""
    settings = get_settings()
    client = IggyClient(
        TcpConfig(
            server_address=address,
            auto_login=AutoLogin.username_password(settings.username, settings.password),
            reconnection=TcpReconnectionConfig(max_retries=0),
        )
    )
    try:
        await asyncio.wait_for(client.connect(), 5.0)
        return await asyncio.wait_for(server_info(client, address), 5.0)
    except (TimeoutError, RuntimeError):
        return None
