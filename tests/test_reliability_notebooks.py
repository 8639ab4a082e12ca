"""Notebooks survive what learners do: cells run out of order, and a server restarted between
two cells. (Running a notebook twice is tests/test_notebooks.py's job.)

Each test drives notebooks/01_first_messages.ipynb cell by cell in a kernel of this
interpreter, against a sandbox of its own so restarting it disturbs nobody:

* out of order: the setup cell, then a later step cell that writes to the server, then the
  setup cell again, then every cell in order: no error, and every self-check says ✅;
* server restarted (in place with SIGHUP, or stopped and started again) after the setup
  cell: the next cell finishes within the cell timeout, either working or failing with an
  error that names the connection problem, and re-running the setup cell then that cell
  works.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT_CREDENTIALS
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from test_notebooks import (
    CELL_TIMEOUT,
    NOTEBOOKS_DIR,
    PASSED,
    STARTUP_TIMEOUT,
    kernel_env,
    kernel_manager,
    printed,
    solved,
    tags,
)

from sandbox.launch import SandboxProcess, start_sandbox

NOTEBOOK = NOTEBOOKS_DIR / "01_first_messages.ipynb"
CONNECTION_WORDS = re.compile(r"connect|server|restart|reach|not available", re.IGNORECASE)
RESTART_TIMEOUT = 30.0  # seconds

pytestmark = pytest.mark.skipif(not NOTEBOOK.exists(),
                                reason=f"{NOTEBOOK.name} is not written yet")


class Cells:
    """A notebook opened in a live kernel, whose cells run one at a time by index."""

    def __init__(self, client: NotebookClient, nb: nbformat.NotebookNode):
        self.client, self.nb = client, nb
        code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        self.setup = next(i for i in code if "helpers.connect(" in nb.cells[i].source)
        self.steps = [i for i in code if i > self.setup and not
                      {"exercise", "check"} & set(tags(nb.cells[i]))]
        self.code = code

    def run(self, index: int) -> None:
        """Run one cell; a failure names the cell and its error line."""
        try:
            self.client.execute_cell(self.nb.cells[index], index)
        except CellTimeoutError:
            pytest.fail(f"cell {index} hung for {CELL_TIMEOUT} s:\n{self.nb.cells[index].source}")
        except CellExecutionError as error:
            pytest.fail(f"cell {index} failed: {error.ename}: {error.evalue}\n"
                        f"{self.nb.cells[index].source}", pytrace=False)

    def try_run(self, index: int) -> CellExecutionError | None:
        """Run one cell that may fail; it must not hang."""
        try:
            self.client.execute_cell(self.nb.cells[index], index)
        except CellTimeoutError:
            pytest.fail(f"cell {index} hung for {CELL_TIMEOUT} s:\n{self.nb.cells[index].source}")
        except CellExecutionError as error:
            return error
        return None

    def run_all(self) -> None:
        for index in self.code:
            self.run(index)

    def checks_passed(self) -> dict[int, bool]:
        return {i: PASSED in printed(c) for i, c in enumerate(self.nb.cells)
                if "check" in tags(c)}


@pytest.fixture
def course_env(fresh_sandbox, monkeypatch) -> dict[str, str]:
    """The kernel's environment, pointing at this test's own sandbox."""
    monkeypatch.setenv("IGGY_TCP_ADDRESS", fresh_sandbox.tcp_address)
    monkeypatch.setenv("IGGY_HTTP_URL", fresh_sandbox.http_url)
    monkeypatch.setenv("IGGY_AUTOSTART", "0")
    monkeypatch.setenv("COURSE_SMALL", "1")
    monkeypatch.setenv("IGGY_USERNAME", "iggy")
    monkeypatch.setenv("IGGY_PASSWORD", "iggy")
    return kernel_env()


@contextmanager
def notebook_kernel(env: dict[str, str]) -> Iterator[Cells]:
    nb = solved(nbformat.read(NOTEBOOK, as_version=4), NOTEBOOK)
    client = NotebookClient(nb, km=kernel_manager(), timeout=CELL_TIMEOUT,
                            startup_timeout=STARTUP_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    with client.setup_kernel(env=env, cleanup_kc=True):
        yield Cells(client, nb)


def first_write_step(cells: Cells) -> int:
    """The first step cell after the setup that sends messages (running it early changes
    what the server holds, which is what setup has to undo)."""
    return next(i for i in cells.steps if re.search(r"produce\(|send_messages\(",
                                                   cells.nb.cells[i].source))


def run_out_of_order(env: dict[str, str], pick) -> None:
    with notebook_kernel(env) as cells:
        step = pick(cells)
        cells.run(cells.setup)
        cells.try_run(step)  # out of order it may fail (a name not defined yet); never hang
        cells.run(cells.setup)
        cells.run_all()
        verdicts = cells.checks_passed()
    assert verdicts and all(verdicts.values()), f"self-checks after re-running: {verdicts}"


def test_setup_then_a_later_step_then_setup_then_everything_works(course_env):
    run_out_of_order(course_env, first_write_step)


@pytest.mark.slow
def test_every_step_run_early_is_undone_by_setup(course_env):
    with notebook_kernel(course_env) as cells:
        steps = cells.steps
    for step in steps:
        run_out_of_order(course_env, lambda cells, step=step: step)


def restart_in_place(server: SandboxProcess, log_file: str) -> SandboxProcess:
    """SIGHUP: the sandbox re-executes itself (same PID, ports, data dir) and prints one more
    ready line into its log."""
    def ready_lines() -> int:
        return Path(log_file).read_text(errors="replace").count("iggy-sandbox ready")

    before = ready_lines()
    os.kill(server.pid, signal.SIGHUP)
    deadline = time.monotonic() + RESTART_TIMEOUT
    while ready_lines() <= before:
        assert time.monotonic() < deadline, f"no new ready line after SIGHUP; see {log_file}"
        time.sleep(0.1)
    return server


def stop_and_start(server: SandboxProcess, log_file: str) -> SandboxProcess:
    server.stop()
    return start_again(server, log_file)


def start_again(server: SandboxProcess, log_file: str) -> SandboxProcess:
    """The same sandbox (ports, data dir) started anew."""
    return start_sandbox(tcp=server.tcp_address, http=server.http_url.removeprefix("http://"),
                         data_dir=server.data_dir, log_file=log_file,
                         env={**os.environ, **ROOT_CREDENTIALS})


def assert_clear(error: CellExecutionError, index: int, seconds: float) -> None:
    assert CONNECTION_WORDS.search(f"{error.ename}: {error.evalue}"), (
        f"cell {index} failed after {seconds:.1f} s with an error that does not say the "
        f"server is unreachable: {error.ename}: {error.evalue}")


@pytest.mark.parametrize("restart", [restart_in_place, stop_and_start],
                         ids=["SIGHUP in place", "stopped and started"])
def test_server_restarted_between_cells_then_setup_recovers(course_env, fresh_sandbox,
                                                           restart):
    log_file = str(fresh_sandbox.data_dir) + ".log"
    server = fresh_sandbox
    try:
        with notebook_kernel(course_env) as cells:
            cells.run(cells.setup)
            server = restart(fresh_sandbox, log_file)
            following = cells.steps[0]
            started = time.monotonic()
            error = cells.try_run(following)  # the SDK may reconnect by itself: then it works
            if error is not None:
                assert_clear(error, following, time.monotonic() - started)
            cells.run(cells.setup)
            cells.run(following)
    finally:
        if server is not fresh_sandbox:
            server.stop()


def test_server_down_during_a_cell_fails_clearly_then_setup_recovers(course_env,
                                                                    fresh_sandbox):
    log_file = str(fresh_sandbox.data_dir) + ".log"
    server = fresh_sandbox
    try:
        with notebook_kernel(course_env) as cells:
            cells.run(cells.setup)
            fresh_sandbox.stop()
            following = cells.steps[0]
            started = time.monotonic()
            error = cells.try_run(following)
            assert error is not None, f"cell {following} reported success with the server down"
            assert_clear(error, following, time.monotonic() - started)
            assert "re-run the Setup cell" in error.traceback, (
                f"the failure does not tell the learner what to do:\n{error.traceback}")
            assert "Traceback" not in error.traceback, "a traceback wall instead of a hint"
            server = start_again(fresh_sandbox, log_file)
            cells.run(cells.setup)
            cells.run(following)
    finally:
        if server is not fresh_sandbox:
            server.stop()
