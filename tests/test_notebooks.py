"""Every course notebook runs top to bottom, twice, and its self-checks can say yes and no.

Each notebook runs in a kernel of this interpreter against the session's server (small mode,
cwd notebooks/), as a learner would press "Run All". Then:

* it runs a second time in the same kernel: re-running must work and give the same verdicts;
* every cell tagged "check" printed "✅" in both runs (the solutions are right);
* in a fresh kernel without the cells tagged "solution", it still runs to the end and every
  "check" cell printed "❌" (a self-check that cannot fail checks nothing).

``pytest tests/test_notebooks.py -k 03_partitions`` runs one notebook.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from helpers.settings import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; a cell that takes longer is hanging
STARTUP_TIMEOUT = 60  # seconds for a kernel to come up
NO_EXERCISE = {"99_reset"}  # the reset notebook only deletes; it teaches nothing to check
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
PASSED, FAILED = "✅", "❌"

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks in notebooks/ yet")


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def printed(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed and displayed, as plain text (errors left out)."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def brief(cell: nbformat.NotebookNode, limit: int = 25) -> str:
    """The cell's source, cut to ``limit`` lines, for failure messages."""
    lines = cell.source.splitlines()
    cut = lines[:limit] + ([f"... ({len(lines) - limit} more lines)"] if len(lines) > limit else [])
    return "\n".join("    " + line for line in cut)


def kernel_manager() -> AsyncKernelManager:
    """A "python3" kernel of this very interpreter (the venv's), whatever kernelspecs the
    machine has installed: with no kernel dirs to search, jupyter_client falls back to
    ipykernel's built-in spec, which launches ``sys.executable``."""
    return AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )


def kernel_env() -> dict[str, str]:
    """The test session's environment (server addresses, COURSE_SMALL=1, IGGY_AUTOSTART=0,
    set by the ``iggy_server`` fixture), plus the repo on the path so ``import helpers``
    works from notebooks/ as it does under ``make lab``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # renders with Agg
    return env


def run(nb: nbformat.NotebookNode, name: str, passes: int = 1) -> list[dict[int, str]]:
    """Execute every code cell ``passes`` times in one new kernel; return, per pass, what
    each "check" cell printed. Fails on the first error with that cell's source and error
    line, not the kernel's traceback."""
    client = NotebookClient(
        nb,
        km=kernel_manager(),
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    verdicts = []
    with client.setup_kernel(env=kernel_env(), cleanup_kc=True):
        for run_number in range(1, passes + 1):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError) as error:
                    pytest.fail(failure(name, run_number, index, cell, error), pytrace=False)
            verdicts.append({i: printed(c) for i, c in enumerate(nb.cells) if "check" in tags(c)})
    return verdicts


def failure(
    name: str, run_number: int, index: int, cell: nbformat.NotebookNode, error: Exception
) -> str:
    """One short paragraph: where it failed, the error line, the source, the last output."""
    if isinstance(error, CellExecutionError):
        what = f"{error.ename}: {ANSI_ESCAPE.sub('', error.evalue)}"
    else:
        what = f"no answer within {CELL_TIMEOUT} s"
    output = ANSI_ESCAPE.sub("", printed(cell)).strip().splitlines()[-8:]
    shown = "\n".join("    | " + line for line in output if line.strip())
    return (
        f"{name}, run {run_number}: cell {index} failed: {what}\n"
        f"  source:\n{brief(cell)}\n" + (f"  output (last lines):\n{shown}\n" if shown else "")
    )


def check_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if "check" in tags(c)]


def assert_checks_say(
    nb: nbformat.NotebookNode, verdicts: dict[int, str], mark: str, when: str
) -> None:
    wrong = {i: text for i, text in verdicts.items() if mark not in text}
    details = "\n".join(
        f"  cell {i} printed {text.strip()!r}\n  source:\n{brief(nb.cells[i], 10)}"
        for i, text in wrong.items()
    )
    assert not wrong, f"{when}, these check cells did not print {mark}:\n{details}"


@pytest.fixture(params=NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def notebook(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_notebook_is_committed_clean(notebook: Path) -> None:
    """Opens without a kernel dialog, carries no outputs, and hides every solution."""
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec") == KERNELSPEC, f"{notebook.name}: kernelspec metadata"
    assert nb.metadata.get("language_info", {}).get("name") == "python"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.outputs and cell.execution_count is None, (
            f"{notebook.name}: cell {index} has outputs; clear them before committing"
        )
        assert "asyncio.run(" not in cell.source, f"{notebook.name}: cell {index}: use await"
        if "solution" in tags(cell):
            hidden = cell.metadata.get("jupyter", {}).get("source_hidden")
            assert hidden is True, f"{notebook.name}: solution cell {index} is not hidden"
    if notebook.stem not in NO_EXERCISE:
        kinds = {tag for cell in nb.cells for tag in tags(cell)}
        assert {"exercise", "solution", "check"} <= kinds, (
            f"{notebook.name}: needs an exercise, its hidden solution and a check cell"
        )


def test_notebook_runs_twice_and_solutions_pass(iggy_server, notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for run_number, verdicts in enumerate(run(nb, notebook.name, passes=2), start=1):
        assert_checks_say(nb, verdicts, PASSED, f"{notebook.name}, run {run_number}")


def test_self_checks_fail_without_the_solutions(iggy_server, notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    if not check_cells(nb):
        pytest.skip(f"{notebook.name} has no self-check cells")
    nb.cells = [cell for cell in nb.cells if "solution" not in tags(cell)]
    (verdicts,) = run(nb, notebook.name)
    assert_checks_say(nb, verdicts, FAILED, f"{notebook.name} without the solutions")
