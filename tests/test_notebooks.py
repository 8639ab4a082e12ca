"""Every course notebook runs top to bottom, twice, and its self-checks judge the learner.

Each notebook runs in a kernel of this interpreter against the session's server (small mode,
cwd notebooks/, no PYTHONPATH: ``import helpers`` must work through the course's install),
as a learner would press "Run All". Then:

* untouched, as committed, it runs to the end and every cell tagged "check" prints "❌" (the
  notebook holds no solution, and a self-check that cannot fail checks nothing);
* with the exercise cell replaced by ``notebooks/solutions/<notebook>.py`` (what a learner
  who solved it would have), it runs twice in one kernel and every check prints "✅" both
  times: re-running must work and give the same verdicts.

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

from coursekit.settings import REPO_ROOT
from helpers.exercises import SOLUTIONS_DIR

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
    set by the ``iggy_server`` fixture) without PYTHONPATH: a kernel of the course's venv
    finds ``helpers`` through the editable install, as in any Jupyter front end."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
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


def solved(nb: nbformat.NotebookNode, notebook: Path) -> nbformat.NotebookNode:
    """The notebook as a learner who solved the exercise has it: the exercise cell holds
    the solution file's code."""
    solution = (SOLUTIONS_DIR / f"{notebook.stem}.py").read_text(encoding="utf-8")
    for cell in nb.cells:
        if "exercise" in tags(cell):
            cell.source = solution
    return nb


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
    """Opens without a kernel dialog, carries no outputs and no solution: one exercise cell,
    a check after it, and the answer in notebooks/solutions/ only."""
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec") == KERNELSPEC, f"{notebook.name}: kernelspec metadata"
    assert nb.metadata.get("language_info", {}).get("name") == "python"
    for index, cell in enumerate(nb.cells):
        assert "noqa" not in cell.source, f"{notebook.name}: cell {index}: lint comment"
        if cell.cell_type != "code":
            continue
        assert not cell.outputs and cell.execution_count is None, (
            f"{notebook.name}: cell {index} has outputs; clear them before committing"
        )
        assert "asyncio.run(" not in cell.source, f"{notebook.name}: cell {index}: use await"
        assert "solution" not in tags(cell), f"{notebook.name}: cell {index} is a solution"
    exercises = [i for i, cell in enumerate(nb.cells) if "exercise" in tags(cell)]
    checks = [i for i, _ in check_cells(nb)]
    if notebook.stem in NO_EXERCISE:
        assert not exercises and not checks
        return
    assert len(exercises) == 1, f"{notebook.name}: needs exactly one exercise cell"
    assert checks and min(checks) > exercises[0], f"{notebook.name}: a check after the exercise"
    assert (SOLUTIONS_DIR / f"{notebook.stem}.py").is_file(), f"{notebook.name}: no solution"


def test_solutions_belong_to_notebooks() -> None:
    stems = {path.stem for path in NOTEBOOKS}
    orphans = [path.name for path in SOLUTIONS_DIR.glob("*.py") if path.stem not in stems]
    assert not orphans, f"solution files without a notebook: {orphans}"


README_ROW = re.compile(r"^\| `(\d\d_\w+)` \|.*\| (\d+) \|$", re.M)
MAP_ROW = re.compile(r"^\| \[[^\]]+\]\((\d\d_\w+)\.ipynb\) \|.*\| (\d+) \|$", re.M)
TIME_LINE = re.compile(r"\*\*Time:\*\* about (\d+) minutes")


def test_course_tables_list_every_notebook_with_its_own_time() -> None:
    """The README's course table and notebook 00's map name every notebook, with the
    minutes its own "Time:" line gives."""
    own = {}
    for path in NOTEBOOKS:
        found = TIME_LINE.search(nbformat.read(path, as_version=4).cells[0].source)
        assert found, f"{path.name}: the first cell needs a '**Time:** about N minutes' line"
        own[path.stem] = int(found.group(1))
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start_here = "".join(
        cell.source for cell in nbformat.read(NOTEBOOKS_DIR / "00_start_here.ipynb", 4).cells
    )
    for where, text, row in (("README.md", readme, README_ROW),
                             ("00_start_here's map", start_here, MAP_ROW)):
        listed = {stem: int(minutes) for stem, minutes in row.findall(text)}
        assert listed == own, f"{where} says {listed}, the notebooks say {own}"


def test_untouched_notebook_runs_and_every_check_says_not_yet(iggy_server, notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    if not check_cells(nb):
        pytest.skip(f"{notebook.name} has no self-check cells")
    (verdicts,) = run(nb, notebook.name)
    assert_checks_say(nb, verdicts, FAILED, f"{notebook.name} untouched")


def test_solved_notebook_runs_twice_and_every_check_says_correct(iggy_server, notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    if notebook.stem not in NO_EXERCISE:
        nb = solved(nb, notebook)
    for run_number, verdicts in enumerate(run(nb, notebook.name, passes=2), start=1):
        assert_checks_say(nb, verdicts, PASSED, f"{notebook.name} solved, run {run_number}")
