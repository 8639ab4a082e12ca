"""Start the sandbox in the background when a notebook or script finds no server.

Detached, so it outlives the kernel or script that started it; data and log go to
COURSE_DATA_DIR, where the next ``make lab`` finds them.
"""

from __future__ import annotations

import asyncio

from coursekit.network import port_answers
from coursekit.settings import Settings
from coursekit.start_failure import sandbox_start_failure


class AutostartFailed(RuntimeError):
    """The sandbox did not come up; the message names its log and the likely cause."""


async def start_background_sandbox(address: str, settings: Settings) -> None:
    """Start the sandbox at ``address`` (and the HTTP address of ``settings``)."""
    from sandbox.launch import SandboxStartError, start_sandbox

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / "sandbox.log"
    print(f"No server at {address}: starting the Iggy sandbox (log: {log_file})")
    try:
        await asyncio.to_thread(
            start_sandbox,
            tcp=address,
            http=settings.http_address,
            data_dir=settings.data_dir,
            log_file=log_file,
            detach=True,
        )
    except SandboxStartError as error:
        if await port_answers(address):  # another notebook started it meanwhile
            return
        raise AutostartFailed(sandbox_start_failure(error, address, log_file, settings)) from None
