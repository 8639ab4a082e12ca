"""``python -m coursekit.lab`` brings up a server and JupyterLab; Ctrl+C takes down what it started.

Headless: each test runs the real command on free ports with its own data and Jupyter
config dirs, waits for the HTTP endpoints, then sends SIGINT as a terminal would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")

import psutil  # noqa: E402

from sandbox.launch import start_sandbox  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TOKEN = "course-lab-test"
STARTUP_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str) -> tuple[int, bytes] | None:
    """Status and body, or None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None


class Lab:
    """One ``python -m coursekit.lab --no-browser`` run with its output in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.jupyter_url = f"http://127.0.0.1:{free_port()}"
        self.log = tmp_path / "lab.log"
        self.env = {
            **os.environ,
            "JUPYTER_PORT": self.jupyter_url.rsplit(":", 1)[1],
            "JUPYTER_TOKEN": TOKEN,
            "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
            "COURSE_DATA_DIR": str(tmp_path / "data"),
            # Fresh ports by default: the session may have pointed these at its own server.
            "IGGY_TCP_ADDRESS": f"127.0.0.1:{free_port()}",
            "IGGY_HTTP_URL": f"http://127.0.0.1:{free_port()}",
            "IGGY_AUTOSTART": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.seen: list[psutil.Process] = []  # children observed, killed at clean-up

    def start(self, *jupyter_options: str) -> Lab:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coursekit.lab", "--no-browser", *jupyter_options],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def jupyter(self, path: str) -> tuple[int, bytes] | None:
        return http_get(f"{self.jupyter_url}{path}?token={TOKEN}")

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if ready():
                return
            if self.process.poll() is not None:
                pytest.fail(
                    f"lab exited ({self.process.returncode}) before {what}:\n{self.output()}"
                )
            time.sleep(0.5)
        pytest.fail(f"no {what} within {STARTUP_TIMEOUT:g}s:\n{self.output()}")

    def wait_for_jupyter(self) -> None:
        self.wait_for("JupyterLab", lambda: (self.jupyter("/api/status") or (0,))[0] == 200)

    def interrupt(self) -> int:
        """SIGINT, as Ctrl+C in a terminal; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"lab still running {SHUTDOWN_TIMEOUT:g}s after SIGINT:\n{self.output()}")

    def children(self) -> list[psutil.Process]:
        found = psutil.Process(self.process.pid).children()
        self.seen += found
        return found

    def close(self) -> None:
        """Test clean-up: kill by PID whatever of this run is still going."""
        if self.process is not None and self.process.poll() is None:
            self.children()
            self.process.kill()
            self.process.wait(10)
        for proc in self.seen:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


@pytest.fixture
def lab_factory(tmp_path):
    labs: list[Lab] = []

    def make(**env: str) -> Lab:
        lab = Lab(tmp_path, env)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.close()


def sandbox_answers(http_url: str) -> bool:
    reply = http_get(f"{http_url}/ping")
    return reply is not None and reply[0] == 200 and b"pong" in reply[1]


def test_lab_starts_sandbox_and_jupyter_and_ctrl_c_stops_both(lab_factory, tmp_path):
    lab = lab_factory()
    http_url = lab.env["IGGY_HTTP_URL"]
    lab.start()
    lab.wait_for("the sandbox", lambda: sandbox_answers(http_url))
    lab.wait_for_jupyter()

    children = lab.children()
    commands = [" ".join(child.cmdline()) for child in children]
    assert any("-m sandbox" in c for c in commands), commands
    assert any("-m jupyterlab" in c for c in commands), commands
    assert (tmp_path / "data" / "sandbox.log").exists(), "the sandbox ignored COURSE_DATA_DIR"

    assert lab.interrupt() == 0, lab.output()
    _, alive = psutil.wait_procs(children, timeout=SHUTDOWN_TIMEOUT)
    assert not alive, f"still running after Ctrl+C: {alive}\n{lab.output()}"
    assert not sandbox_answers(http_url)


def test_first_screen_has_no_news_prompt(lab_factory):
    """JupyterLab asks about news when fetchNews is "none"; the course's defaults say no."""
    lab = lab_factory()
    lab.start()
    lab.wait_for_jupyter()
    status, body = lab.jupyter("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert status == 200, body
    defaults = {k: v.get("default") for k, v in json.loads(body)["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False


def test_jupyterlab_options_pass_through_and_win(lab_factory):
    """``make lab ARGS="--port 9999"``: an option for JupyterLab reaches it, over the default."""
    lab = lab_factory()
    lab.jupyter_url = f"http://127.0.0.1:{free_port()}"
    lab.start("--port", lab.jupyter_url.rsplit(":", 1)[1], "--ServerApp.base_url=/course/")
    lab.wait_for("JupyterLab on the given port and base URL", lambda: (
        lab.jupyter("/course/api/status") or (0,))[0] == 200)
    assert lab.interrupt() == 0, lab.output()


def test_ctrl_c_leaves_a_server_it_did_not_start_running(lab_factory):
    with start_sandbox() as server:
        lab = lab_factory(IGGY_TCP_ADDRESS=server.tcp_address, IGGY_HTTP_URL=server.http_url)
        lab.start()
        lab.wait_for_jupyter()
        children = lab.children()
        assert not any("-m sandbox" in " ".join(c.cmdline()) for c in children)
        assert "already answers" in lab.output()

        assert lab.interrupt() == 0, lab.output()
        assert server.popen.poll() is None, "lab stopped a server it did not start"
        assert sandbox_answers(server.http_url)


def test_without_server_and_autostart_off_it_says_what_to_do(lab_factory):
    lab = lab_factory(IGGY_AUTOSTART="0")
    lab.start()
    assert lab.process.wait(30) == 1
    output = lab.output()
    assert "docker compose up -d" in output
    assert "make lab" in output
    assert lab.jupyter("/api/status") is None, "JupyterLab started without a server"
