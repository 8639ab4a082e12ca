"""Short, actionable messages in notebooks for the errors learners meet most.

A lost server shows up as the SDK's ``RuntimeError: Cannot establish connection`` under a
wall of traceback; so does a sandbox that refuses a machine past its connection limit
(``--max-connections-per-host``). In a notebook kernel, ``connect()`` installs this handler
so that error, and the helpers' own ``ServerNotAvailable`` / ``LoginFailed``, print one
message that says what to do. The cell still fails (so "Run All" stops there); every other
error keeps its normal traceback.
"""

from __future__ import annotations

from typing import Any

# What the 0.9.0 SDK says when the connection is gone or never came back
CONNECTION_LOST = ("Cannot establish connection", "Not connected", "Disconnected",
                   "Connection refused", "Broken pipe", "Connection reset")
RECOVERY_HINT = ("Start the server again (`make lab`, or `docker compose up -d` for Docker), "
                 "then re-run the Setup cell at the top of this notebook.")
# The sandbox refuses a machine's connections past its limit with the same SDK error
REFUSED = "Cannot establish connection"
TOO_MANY_CLIENTS_HINT = ("If the server is still running, this machine may hold too many "
                         "clients (the sandbox refuses more than 1,000 connections from one "
                         "machine): make one client and reuse it, and restart the kernel to "
                         "drop the others.")


def install() -> None:
    """Register the handler in the running IPython kernel (no-op outside one, idempotent)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_iggy_course_errors", False):
        return
    from helpers.connection import LoginFailed, ServerNotAvailable

    shell.set_custom_exc((ServerNotAvailable, LoginFailed, RuntimeError), _show)
    shell._iggy_course_errors = True


def short_message(error: BaseException) -> str | None:
    """The one-paragraph message for ``error``, or None when it deserves a full traceback."""
    from helpers.connection import LoginFailed, ServerNotAvailable

    if isinstance(error, ServerNotAvailable | LoginFailed):
        return f"{type(error).__name__}: {error}"
    text = str(error)
    if isinstance(error, RuntimeError) and any(words in text for words in CONNECTION_LOST):
        message = f"Lost the connection to the Iggy server ({text}). {RECOVERY_HINT}"
        return f"{message} {TOO_MANY_CLIENTS_HINT}" if REFUSED in text else message
    return None


def _show(shell: Any, etype: type, value: BaseException, tb: Any,
          tb_offset: int | None = None) -> None:
    """IPython's custom-exception hook: it must display the error itself."""
    message = short_message(value)
    if message is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    else:
        shell._showtraceback(etype, value, [message])
