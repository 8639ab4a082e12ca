"""Exercises: a self-check that judges the learner's code, and the solution on request.

A notebook holds only the exercise (with a TODO) and its check; running the notebook never
runs a solution. Each solution lives in ``notebooks/solutions/<notebook>.py``, one deliberate
step away: ``helpers.solution("03")`` shows it, and in JupyterLab
``%load solutions/03_partitions.py`` puts it into the cell.
"""

from __future__ import annotations

from pathlib import Path

from coursekit.settings import REPO_ROOT

SOLUTIONS_DIR = REPO_ROOT / "notebooks" / "solutions"


def check(condition: object, *, ok: str = "well done.", hint: str = "try again.") -> bool:
    """Print "✅ Correct: <ok>" when ``condition`` is true, else "❌ Not yet: <hint>".

    Returns the verdict, so tests of the notebooks can assert on it.
    """
    passed = bool(condition)
    print(f"✅ Correct: {ok}" if passed else f"❌ Not yet: {hint}")
    return passed


def solution_file(notebook: str) -> Path:
    """The solution file of a notebook given as "03", "nb03" or "03_partitions"."""
    number = notebook.removeprefix("nb").split("_")[0]
    matches = sorted(SOLUTIONS_DIR.glob(f"{number}_*.py")) if number.isdigit() else []
    if len(matches) != 1:
        known = ", ".join(path.stem for path in sorted(SOLUTIONS_DIR.glob("*.py")))
        raise ValueError(f"No solution for {notebook!r}. Solutions exist for: {known}")
    return matches[0]


def solution(notebook: str) -> None:
    """Show one answer to a notebook's exercise (try it yourself first!).

    ``notebook`` is its number ("03") or file name ("03_partitions"). Copy the code into the
    exercise cell, or in JupyterLab run ``%load solutions/<file>.py`` in a new cell.
    """
    path = solution_file(notebook)
    code = path.read_text(encoding="utf-8").rstrip()
    note = f"One answer, from `solutions/{path.name}`. Copy it into the exercise cell, run it, "
    note += "then run the check again."
    from IPython import get_ipython
    from IPython.display import Markdown, display

    if get_ipython() is None:  # a plain script or terminal
        print(f"{note}\n\n{code}")
        return
    display(Markdown(f"{note}\n\n```python\n{code}\n```"))
