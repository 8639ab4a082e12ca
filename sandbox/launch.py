"""Start the sandbox as a child process and learn where it listens.

One launcher serves the tests, the helpers' autostart and the lab command, so the way a
sandbox is started and stopped is written once. It reads the single ready line the server
prints (``iggy-sandbox ready tcp=... http=... data=...``), which also gives the real ports
when 0 was asked for.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY_PATTERN = re.compile(r"iggy-sandbox ready tcp=(\S+) http=(\S+) data=(\S+)")
EXIT_DISK_FULL = 3  # the sandbox's exit code when its disk is full (its log may be empty)


class SandboxStartError(RuntimeError):
    """The sandbox did not print its ready line in time (its output is in the message).
    ``disk_full``: it stopped because its disk is full (the message says so), so a taken
    port is not the cause."""

    def __init__(self, message: str, *, disk_full: bool = False):
        super().__init__(message)
        self.disk_full = disk_full


class SandboxProcess:
    """A running sandbox: its addresses, its PID, and how to stop it."""

    def __init__(self, popen: subprocess.Popen, tcp_address: str, http_url: str, data_dir: str,
                 temporary_log: Path | None = None):
        self.popen = popen
        self.tcp_address = tcp_address
        self.http_url = http_url
        self.data_dir = None if data_dir == "in-memory" else data_dir
        self._temporary_log = temporary_log

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
        self._forget_log()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, for durability tests."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self._forget_log()

    def _forget_log(self) -> None:
        if self._temporary_log is not None:
            self._temporary_log.unlink(missing_ok=True)

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
    (default: a temporary file removed by ``stop()``). The server writes to that file, never
    to a pipe of ours, so ``detach=True`` (its own session) lets it outlive the caller: the
    helpers' autostart uses that.
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
    temporary = None
    if log_file is None:
        handle, name = tempfile.mkstemp(prefix="iggy-sandbox-", suffix=".log")
        os.close(handle)
        log_file = temporary = Path(name)
    log_path = Path(log_file)
    start_at = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=child_env,
                                 start_new_session=detach)
    output, match = _wait_ready(popen, log_path, start_at, timeout)
    if match is None:
        if popen.poll() is None:
            popen.kill()
        code = popen.wait(5)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        reason = (f"exited with code {code}" if code and code > 0
                  else f"did not start within {timeout:g}s")
        if code == EXIT_DISK_FULL:
            reason = (f"did not start: the disk is full where it keeps its data ({data_dir}) "
                      f"or its log ({log_path}). Free some space there, or use another folder")
        raise SandboxStartError(f"the sandbox {reason}: {output.strip() or '(no output)'}",
                                disk_full=code == EXIT_DISK_FULL)
    return SandboxProcess(popen, match.group(1), match.group(2), match.group(3), temporary)


def _wait_ready(popen: subprocess.Popen, log_path: Path, start_at: int,
                timeout: float) -> tuple[str, re.Match | None]:
    """Follow the log from ``start_at`` until the ready line, an exit, or the deadline."""
    deadline = time.monotonic() + timeout
    output = ""
    with open(log_path, "rb") as log:
        log.seek(start_at)
        while True:
            output += log.read().decode(errors="replace")
            match = READY_PATTERN.search(output)
            if match or popen.poll() is not None or time.monotonic() >= deadline:
                if match is None:
                    output += log.read().decode(errors="replace")
                return output, match
            time.sleep(0.02)
