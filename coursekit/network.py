"""Is anything listening at ``host:port``? Asked before the SDK, which retries forever."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress

PORT_CHECK_TIMEOUT = 1.0  # seconds to wait for a TCP handshake


async def port_answers(address: str, timeout: float = PORT_CHECK_TIMEOUT) -> bool:
    """True when something accepts a TCP connection at ``host:port`` within ``timeout``."""
    host, port = split_address(address)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` → ``(host, port)``, with an error that shows the expected form."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected an address like 127.0.0.1:8090, got {address!r}")
    return host.strip("[]"), int(port)


def is_loopback(address: str) -> bool:
    """True for ``localhost`` and loopback IPs: the only places the course starts a server."""
    host, _ = split_address(address)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
