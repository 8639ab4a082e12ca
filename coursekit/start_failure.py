"""What a learner is told when the sandbox did not start: why, where its log is, and the
likely cause."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coursekit.settings import Settings

if TYPE_CHECKING:
    from sandbox.launch import SandboxStartError


def sandbox_start_failure(error: SandboxStartError, tcp_address: str, log_file: Path,
                          settings: Settings) -> str:
    """The message for ``make lab`` and for a notebook's autostart alike. A taken port is
    named as the likely cause unless the sandbox said its disk is full."""
    message = f"Could not start the Iggy sandbox at {tcp_address}: {error}\nIts log is {log_file}."
    if error.disk_full:
        return message
    return f"{message} Is port {settings.http_address} (IGGY_HTTP_URL) taken?"
