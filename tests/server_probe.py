"""Is the server still well? Alive, answering a fresh SDK client, and of bounded size.

Shared by the fuzz and fault tests: after every hostile exchange they ask the same three
questions, with a timeout, so a crash, a hang or a runaway allocation is each a clear
failure instead of a stuck test.
"""

from __future__ import annotations

import asyncio

from apache_iggy import IggyClient, TcpConfig, TcpReconnectionConfig

from sandbox.launch import SandboxProcess

PING_TIMEOUT = 10.0  # seconds


async def answers_ping(address: str, timeout: float = PING_TIMEOUT) -> bool:
    """True when a brand-new SDK client connects and gets a ping answered in time."""
    client = IggyClient(TcpConfig(server_address=address,
                                  reconnection=TcpReconnectionConfig(enabled=False)))

    async def ping() -> None:
        await client.connect()
        await client.ping()

    try:
        await asyncio.wait_for(ping(), timeout)
    except (TimeoutError, RuntimeError):
        return False
    return True


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS line for process {pid}")


def assert_alive(process: SandboxProcess, log_file: object = None) -> None:
    """The server process has not exited (its log is named in the failure)."""
    code = process.popen.poll()
    where = f"; see its log {log_file}" if log_file else ""
    assert code is None, f"the sandbox exited with code {code}{where}"
