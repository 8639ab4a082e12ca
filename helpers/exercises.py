"""Self-checks for notebook exercises: a friendly verdict, never an exception.

Solutions live in collapsed cells (cell metadata ``jupyter.source_hidden``), so nothing
else is needed in Python.
"""

from __future__ import annotations


def check(condition: object, *, ok: str = "well done.", hint: str = "try again.") -> bool:
    """Print "✅ Correct: <ok>" when ``condition`` is true, else "❌ Not yet: <hint>".

    Returns the verdict, so tests of the notebooks can assert on it.
    """
    passed = bool(condition)
    print(f"✅ Correct: {ok}" if passed else f"❌ Not yet: {hint}")
    return passed
