"""Every notebook, run as a learner runs it: JupyterLab in a real browser, Run All Cells.

``make test-browser`` (not part of ``make test``: it needs Chromium). One JupyterLab is
started as ``make lab`` starts it (``python -m coursekit.lab`` on free ports, with its own
sandbox, IGGY_AUTOSTART=1, COURSE_SMALL=1) and headless Chromium from the system's packages
(Playwright drives it; it never downloads a browser of its own) opens each notebook in a
fresh tab, waits for the kernel, and clicks Run > Run All Cells. Once the kernel is idle
with every cell run, it asserts what the learner would see:

* no dialog (no "Select Kernel": the notebooks name their kernel) and no error output;
* every check cell says ❌ (the exercise is untouched, and a check judges the learner);
* every cell that calls a helper that draws (a plot returning a Figure, a live view
  returning a LiveView) shows an image.

A full-page screenshot of each notebook goes to .cache/screenshots/ (git-ignored), pass or
fail. Jupyter's user config is a temporary directory in which autosave is off and
checkpoints live, so the repository's notebooks are never written.
``CHROMIUM=/path/to/chrome`` picks another Chromium build.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

from coursekit.settings import REPO_ROOT
from sandbox.cli import CLEANER_INTERVAL_ENV
from tests.test_lab import TOKEN, Lab
from tests.test_notebooks import FAILED, NOTEBOOKS, PASSED, brief, check_cells

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / ".cache" / "screenshots"
# Headless Chromium as root in a container: no sandbox and no GPU, and none of the
# background connections (updates, sync, component downloads) a closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 16_000  # pixels; Chromium cannot draw a taller page in one piece
SCREENSHOT_GROWTH_STEPS = 6
OPEN_TIMEOUT = 60.0  # seconds until a notebook's kernel is idle after opening it
RUN_TIMEOUT = 200.0  # seconds for Run All Cells
# The sandbox deletes segments every second, as in the other notebook tests: 07 waits for it
CLEANER_INTERVAL = "1s"
POLL = 0.5  # seconds between looks at the page
DRAWING_MODULES = ("helpers.plots", "helpers.live")  # live views once they exist
DRAWN = re.compile(r"\b(Figure|LiveView)\b")  # return annotations of calls that draw
RAN = re.compile(r"\[\d+\]:")  # the prompt of a cell that ran ("[*]:" waits, "[ ]:" never ran)

# One entry per cell of the visible notebook, in order: its prompt ("[3]:", "[*]:", "[ ]:"),
# the text of its outputs, the text of its error outputs (tracebacks and stderr) and how
# many images it shows. Plus the kernel status of the status bar ("Python 3 (ipykernel) |
# Idle") and the text of any open dialog.
PAGE_STATE = """() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cells = notebook ? [...notebook.querySelectorAll(':scope .jp-Cell')] : [];
  const text = (nodes) => [...nodes].map((node) => node.textContent).join('\\n');
  return {
    cells: cells.map((cell) => ({
      prompt: (cell.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim(),
      output: text(cell.querySelectorAll('.jp-OutputArea-output')),
      errors: text(cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')),
      images: cell.querySelectorAll('.jp-OutputArea-output[data-mime-type^="image/"]').length,
    })),
    kernel: [...document.querySelectorAll('.jp-StatusBar-Item')]
      .map((item) => item.textContent.trim()).find((t) => t.includes(' | ')) || '',
    dialog: text(document.querySelectorAll('.jp-Dialog')),
  };
}"""
# The window height that shows the whole notebook, scrolled to its top, once drawn.
NOTEBOOK_PAGE_HEIGHT = """() => new Promise((done) => {
  const outer = document.querySelector(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  if (!outer) return done(0);
  outer.scrollTop = 0;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const cells = outer.querySelectorAll('.jp-Cell');
    if (!cells.length) return done(0);
    // The last cell's end, not scrollHeight: "scroll past end" grows with the window.
    const content = cells[cells.length - 1].getBoundingClientRect().bottom
      - outer.getBoundingClientRect().top + 40;
    done(Math.ceil(content + window.innerHeight - outer.clientHeight));
  }));
})"""


def chromium_executable() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser"
    )
    if not path:
        pytest.fail(
            "no Chromium found. Install the system's package (Debian/Ubuntu: "
            "`apt-get install chromium`) or set CHROMIUM=/path/to/chromium.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``python -m coursekit.lab`` with its own sandbox, config dirs and free ports."""
    home = tmp_path_factory.mktemp("browser-lab")
    config = home / "jupyter-config"  # Lab makes it JUPYTER_CONFIG_DIR
    write_json(config / "jupyter_server_config.json",
               {"FileCheckpoints": {"checkpoint_dir": str(home / "checkpoints")}})
    write_json(config / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
               / "plugin.jupyterlab-settings", {"autosave": False})
    committed = {path: path.read_bytes() for path in NOTEBOOKS}
    server = Lab(home, {"COURSE_SMALL": "1", CLEANER_INTERVAL_ENV: CLEANER_INTERVAL})
    try:
        server.start()
        server.wait_for_jupyter()
        yield server
        assert server.interrupt() == 0, server.output()
    finally:
        server.close()
        changed = [path.name for path, text in committed.items() if path.read_bytes() != text]
        for path in changed:
            path.write_bytes(committed[path])
        assert not changed, f"the browser run wrote to {changed} (restored)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def notebook(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_run_all_cells_in_jupyterlab(lab: Lab, browser: Browser, notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    kernel_name = nb.metadata.kernelspec.display_name
    page = browser.new_page(viewport=VIEWPORT)
    try:
        open_notebook(page, lab, notebook, kernel_name)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        cells = wait_until_run(page, kernel_name)
    finally:
        screenshot(page, SCREENSHOTS / f"{notebook.stem}.png")
        page.close()
        shut_down_kernels(lab)

    assert len(cells) == len(nb.cells), f"JupyterLab shows {len(cells)} cells of {len(nb.cells)}"
    errors = [(i, cell["errors"]) for i, cell in enumerate(cells) if cell["errors"].strip()]
    assert not errors, error_report(nb, errors)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    not_run = {i: cells[i]["prompt"] for i in code if not RAN.fullmatch(cells[i]["prompt"])}
    assert not not_run, f"cells that did not run (cell: prompt): {not_run}"
    for i, _ in check_cells(nb):
        said = cells[i]["output"]
        assert FAILED in said and PASSED not in said, (
            f"check cell {i} of the untouched notebook should say {FAILED}, it said {said!r}"
        )
    draws = drawing_calls()
    blank = [i for i in code if draws.search(nb.cells[i].source) and not cells[i]["images"]]
    assert not blank, "cells that draw but show no image:\n" + "\n".join(
        f"  cell {i}:\n{brief(nb.cells[i], 8)}" for i in blank
    )


def drawing_calls() -> re.Pattern[str]:
    """Calls of the helpers that put a picture under their cell, found by their return
    annotation, so a plot or live view added later is checked too."""
    names = []
    for module_name in DRAWING_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name, member in vars(module).items():
            if name.startswith("_") or getattr(member, "__module__", None) != module_name:
                continue  # private, or imported from elsewhere
            if inspect.isclass(member):
                drawn = DRAWN.fullmatch(name)
            else:
                drawn = inspect.isfunction(member) and DRAWN.search(
                    str(inspect.signature(member).return_annotation))
            if drawn:
                names.append(re.escape(f"{module_name}.{name}"))
    return re.compile(rf"\b({'|'.join(names)})\s*\(")


def open_notebook(page: Page, lab: Lab, notebook: Path, kernel_name: str) -> None:
    """Open the notebook as a link would (``?reset``: no tabs restored from before) and
    wait until its kernel is idle: Run All before that asks which kernel to use."""
    path = notebook.relative_to(REPO_ROOT).as_posix()
    page.goto(f"{lab.jupyter_url}/lab/tree/{path}?token={TOKEN}&reset")
    ready = f"{kernel_name} | Idle"
    deadline = time.monotonic() + OPEN_TIMEOUT
    while (state := page.evaluate(PAGE_STATE))["kernel"] != ready:
        fail_on_dialog(state)
        if state["kernel"].endswith("| Idle"):
            pytest.fail(f"{notebook.name} names the kernel {kernel_name!r}, JupyterLab started "
                        f"{state['kernel']!r}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{notebook.name}: kernel not {ready!r} within {OPEN_TIMEOUT:g} s "
                        f"(status bar: {state['kernel']!r})", pytrace=False)
        page.wait_for_timeout(POLL * 1000)


def wait_until_run(page: Page, kernel_name: str) -> list[dict]:
    """The cells once Run All is over: the kernel idle, no cell waiting ("[*]"), and every
    code cell run or one of them failed (JupyterLab then skips the rest)."""
    idle = f"{kernel_name} | Idle"
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        state = page.evaluate(PAGE_STATE)
        fail_on_dialog(state)
        code_prompts = [cell["prompt"] for cell in state["cells"] if cell["prompt"]]
        finished = all(RAN.fullmatch(prompt) for prompt in code_prompts)
        failed = any(cell["errors"].strip() for cell in state["cells"])
        waiting = any("*" in prompt for prompt in code_prompts)
        if state["kernel"] == idle and not waiting and (finished or failed):
            return state["cells"]
        if time.monotonic() > deadline:
            pytest.fail(f"Run All not over within {RUN_TIMEOUT:g} s: status bar "
                        f"{state['kernel']!r}, prompts {' '.join(code_prompts)}", pytrace=False)
        page.wait_for_timeout(POLL * 1000)


def fail_on_dialog(state: dict) -> None:
    if state["dialog"].strip():
        pytest.fail(f"JupyterLab showed a dialog: {state['dialog'].strip()!r}", pytrace=False)


def screenshot(page: Page, path: Path) -> None:
    """The whole notebook in one picture: the window made as tall as the notebook's
    content, scrolled to the top, as a learner would see it on a very tall screen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):  # a page that never loaded still gets a picture
        # Cells out of view have estimated heights until drawn: grow until it stops growing.
        for _ in range(SCREENSHOT_GROWTH_STEPS):
            height = min(page.evaluate(NOTEBOOK_PAGE_HEIGHT), MAX_SCREENSHOT_HEIGHT)
            if height <= page.viewport_size["height"]:
                break
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.screenshot(path=str(path), full_page=True)


def shut_down_kernels(lab: Lab) -> None:
    """End the notebook's kernel (closing its tab leaves it running)."""
    with urllib.request.urlopen(f"{lab.jupyter_url}/api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(
            f"{lab.jupyter_url}/api/sessions/{session['id']}?token={TOKEN}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()


def error_report(nb: nbformat.NotebookNode, errors: list[tuple[int, str]]) -> str:
    return "cells with error output:\n" + "\n".join(
        f"  cell {i}:\n{brief(nb.cells[i], 8)}\n  error (last lines):\n"
        + "\n".join("    | " + line for line in text.strip().splitlines()[-6:])
        for i, text in errors
    )


def write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
