"""Start the sandbox as a child process and learn where it listens.

One launcher serves the tests, the helpers' autostart and the lab command, so the way a
sandbox is started and stopped is written once. It reads the single ready line the server
prints (``iggy-sandbox ready tcp=... http=... data=...``), which also gives the real ports
when 0 was asked for.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

READY_PATTERN = re.compile(r"iggy-sandbox ready tcp=(\S+) http=(\S+) data=(\S+)")


class SandboxStartError(RuntimeError):
    """The sandbox did not print its ready line in time (its output is in the message)."""


class SandboxProcess:
    """A running sandbox: its addresses, its PID, and how to stop it."""

    def __init__(self, popen: subprocess.Popen, tcp_address: str, http_url: str, data_dir: str):
        self.popen = popen
        self.tcp_address = tcp_address
        self.http_url = http_url
        self.data_dir = None if data_dir == "in-memory" else data_dir

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, wait; SIGKILL if it does not stop in time. Returns the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        self._close_pipes()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, for durability tests."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.popen.stdout:
            self.popen.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(
    tcp: str = "127.0.0.1:0",
    http: str = "127.0.0.1:0",
    data_dir: str | os.PathLike | None = None,
    extra_args: tuple[str, ...] | list[str] = (),
    timeout: float = 15,
    log_file: str | os.PathLike | None = None,
    detach: bool = False,
    env: dict[str, str] | None = None,
) -> SandboxProcess:
    """Start ``python -m sandbox`` and wait for its ready line.

    ``data_dir=None`` runs it in memory. ``log_file`` receives everything the server prints
    (default: discarded after the ready line). ``detach=True`` puts it in its own session so
    it outlives the caller (the helpers' autostart uses that).
    """
    args = [sys.executable, "-m", "sandbox", "--tcp", tcp, "--http", http]
    args += ["--data-dir", str(data_dir)] if data_dir is not None else ["--in-memory"]
    args += list(extra_args)
    root = Path(__file__).resolve().parent.parent
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), child_env.get("PYTHONPATH", "")) if p
    )
    child_env["PYTHONUNBUFFERED"] = "1"
    # stderr joins stdout: what the server says before its ready line (a refusal to start,
    # say) ends up in the error, and everything after it in the log file.
    popen = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=child_env,
        start_new_session=detach,
    )
    seen: list[str] = []
    match = _wait_ready(popen, timeout, seen)
    if match is None:
        if popen.poll() is None:
            popen.kill()
        code = popen.wait(5)
        popen.stdout.close()
        output = "".join(seen).strip() or "(no output)"
        if log_file:
            with open(log_file, "a", encoding="utf-8") as log:
                log.write(output + "\n")
        reason = (f"exited with code {code}" if code and code > 0
                  else f"did not start within {timeout:g}s")
        raise SandboxStartError(f"the sandbox {reason}: {output}")
    # Nobody reads the pipe from here on: hand further output to the log (or drop it), so a
    # chatty server never blocks on a full pipe.
    _drain_in_background(popen, log_file, "".join(seen))
    return SandboxProcess(popen, match.group(1), match.group(2), match.group(3))


def _wait_ready(popen: subprocess.Popen, timeout: float, seen: list[str]) -> re.Match | None:
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(popen.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(popen.stdout.fileno(), 4096)
            if not chunk:
                return None
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                seen.append(text + "\n")
                match = READY_PATTERN.search(text)
                if match:
                    return match
        return None
    finally:
        selector.close()


def _drain_in_background(popen: subprocess.Popen, log_file: str | os.PathLike | None,
                         already_read: str) -> None:
    def pump() -> None:
        sink = open(log_file, "ab") if log_file else None  # noqa: SIM115
        try:
            if sink:
                sink.write(already_read.encode())
            for line in iter(popen.stdout.readline, b""):
                if sink:
                    sink.write(line)
                    sink.flush()
        except (OSError, ValueError):
            pass
        finally:
            if sink:
                sink.close()

    threading.Thread(target=pump, name=f"sandbox-{popen.pid}-stdout", daemon=True).start()
