"""Ending command-line scripts that used the SDK (clients/, ``python -m coursekit.reset``).

apache-iggy 0.9.0 runs its I/O on Tokio threads that Python does not wait for: when one is
still finishing a task while the interpreter shuts down, the process dies with SIGABRT
("Fatal Python error: Aborted") after its work succeeded, in about a third of short runs
against a live server. A script whose work is done therefore flushes its output and leaves
without the interpreter's teardown, where that race lives.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code`` at once."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken: nothing to save
            stream.flush()
    os._exit(code)
