"""``make lab``: make sure an Iggy server answers, then open the course in JupyterLab.

``python -m coursekit.lab [--no-browser] [JupyterLab options]``. When nothing answers at
IGGY_TCP_ADDRESS it starts the course's sandbox (unless IGGY_AUTOSTART=0) and, on Ctrl+C,
stops JupyterLab and that sandbox, never a server it found already running. Every other
option goes to JupyterLab as it is (``make lab ARGS="--port 9999"``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from coursekit.network import port_answers
from coursekit.settings import REPO_ROOT, Settings, get_settings
from coursekit.start_failure import sandbox_start_failure

if TYPE_CHECKING:
    from sandbox.launch import SandboxProcess

FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"
# The course's JupyterLab defaults (no news prompt, no update check) live in a repo-local
# config dir that is added to the path Jupyter searches, on top of the learner's own.
COURSE_JUPYTER_CONFIG = REPO_ROOT / ".jupyter"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.lab", description=__doc__)
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args, jupyter_options = parser.parse_known_args(argv)
    # Ctrl+C and `kill PID` both end in the clean-up below, even when this process was
    # started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    sandbox = jupyter = None
    try:
        sandbox = _ensure_server(get_settings())
        jupyter = subprocess.Popen(
            _jupyter_command(args.no_browser, jupyter_options),
            env=_jupyter_env(sandbox),
            cwd=REPO_ROOT,
        )
        return jupyter.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not skip clean-up
        _stop_jupyter(jupyter)
        if sandbox is not None:
            print(f"Stopping the sandbox (pid {sandbox.pid}).")
            sandbox.stop()


def _ensure_server(settings: Settings) -> SandboxProcess | None:
    """Return the sandbox this call started, ``None`` if a server already answered.

    Raises ``SystemExit`` with a message that says what to do when there is no server.
    """
    try:
        answers = asyncio.run(port_answers(settings.tcp_address))
    except ValueError as error:
        raise SystemExit(f"IGGY_TCP_ADDRESS: {error}") from None
    if answers:
        print(f"Using the Iggy server that already answers at {settings.tcp_address}.")
        return None
    if not settings.autostart:
        raise SystemExit(_no_server_message(settings.tcp_address))

    from sandbox.launch import SandboxStartError, start_sandbox

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / "sandbox.log"
    try:
        sandbox = start_sandbox(
            tcp=settings.tcp_address,
            http=settings.http_address,
            data_dir=settings.data_dir,
            log_file=log_file,
        )
    except SandboxStartError as error:
        raise SystemExit(sandbox_start_failure(error, settings.tcp_address, log_file,
                                               settings)) from None
    print(
        f"Started the Iggy sandbox (pid {sandbox.pid}) at tcp={sandbox.tcp_address} "
        f"http={sandbox.http_url}, data in {sandbox.data_dir}, log in {log_file}."
    )
    return sandbox


def _stop_jupyter(jupyter: subprocess.Popen | None) -> None:
    if jupyter is None or jupyter.poll() is not None:
        return
    jupyter.terminate()
    try:
        jupyter.wait(30)
    except subprocess.TimeoutExpired:
        jupyter.kill()
        jupyter.wait()


def _no_server_message(address: str) -> str:
    return (
        f"No Iggy server answers at {address}, and IGGY_AUTOSTART=0 says not to start one.\n"
        "Either start the real server first:   docker compose up -d\n"
        "or let the course start its sandbox:  make lab   (without IGGY_AUTOSTART=0)"
    )


def _jupyter_env(sandbox: SandboxProcess | None) -> dict[str, str]:
    """The kernels see the server that answers (``import helpers`` works through the
    course's editable install in this venv, not through PYTHONPATH)."""
    env = dict(os.environ)
    if sandbox is not None:
        env["IGGY_TCP_ADDRESS"] = sandbox.tcp_address
        env["IGGY_HTTP_URL"] = sandbox.http_url
    env["JUPYTER_CONFIG_PATH"] = _prepend(
        str(COURSE_JUPYTER_CONFIG), env.get("JUPYTER_CONFIG_PATH")
    )
    return env


def _jupyter_command(no_browser: bool, options: list[str]) -> list[str]:
    """JupyterLab on the course's defaults, except those the learner's ``options`` set
    themselves (``--port 9999`` replaces JUPYTER_PORT: Jupyter refuses a setting twice)."""
    defaults = {
        ("--ip", "--ServerApp.ip"): "127.0.0.1",
        ("--port", "--ServerApp.port"): os.environ.get("JUPYTER_PORT") or "8888",
        ("--ServerApp.root_dir", "--notebook-dir"): str(REPO_ROOT),
        ("--ServerApp.default_url",): f"/lab/tree/{FIRST_NOTEBOOK}",
        ("--ServerApp.answer_yes",): "True",  # Ctrl+C stops at once instead of asking y/n
    }
    given = {option.split("=", 1)[0] for option in options if option.startswith("--")}
    command = [sys.executable, "-m", "jupyterlab"]
    command += [f"{names[0]}={value}" for names, value in defaults.items() if not given & {*names}]
    if no_browser or not _has_display():
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command + options


def _has_display() -> bool:
    """Linux without X11 or Wayland (a server, a container, CI) has no browser to open."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _prepend(path: str, existing: str | None) -> str:
    return os.pathsep.join(p for p in (path, existing) if p)


if __name__ == "__main__":
    sys.exit(main())
