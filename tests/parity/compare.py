"""Compare a scenario's recorded exchanges with a replay, step by step, value by value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_MISSING = "<absent>"


@dataclass(frozen=True)
class Difference:
    """One step that went differently; ``where`` is the first path that differs."""

    step: str
    where: str
    real: Any
    sandbox: Any

    def __str__(self) -> str:
        return (f"step {self.step!r} at {self.where}:\n"
                f"    real:    {_short(self.real)}\n    sandbox: {_short(self.sandbox)}")


def compare(recorded: list[dict], replayed: list[dict]) -> list[Difference]:
    """Every step whose exchange differs, in recorded order, then steps only the replay has.

    Steps are matched by name, so one difference does not shift every later step.
    """
    replayed_by_step = {exchange["step"]: exchange for exchange in replayed}
    recorded_steps = {exchange["step"] for exchange in recorded}
    differences = []
    for real in recorded:
        sandbox = replayed_by_step.get(real["step"])
        if sandbox is None:
            differences.append(Difference(real["step"], "the step", "ran", "did not run"))
            continue
        where = first_difference(real, sandbox)
        if where is not None:
            differences.append(Difference(real["step"], where[0], where[1], where[2]))
    differences += [Difference(exchange["step"], "the step", "did not run", "ran")
                    for exchange in replayed if exchange["step"] not in recorded_steps]
    return differences


def first_difference(real: Any, sandbox: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """(path, real value, sandbox value) of the first place the two differ, or None."""
    if isinstance(real, dict) and isinstance(sandbox, dict):
        for key in list(real) + [k for k in sandbox if k not in real]:
            found = first_difference(real.get(key, _MISSING), sandbox.get(key, _MISSING),
                                     f"{path}.{key}" if path else key)
            if found:
                return found
        if list(real) != list(sandbox):  # a learner reads JSON in the order it comes
            return (f"{path} (key order)", list(real), list(sandbox))
        return None
    if isinstance(real, list) and isinstance(sandbox, list):
        if len(real) != len(sandbox):
            return (f"{path} (length)", len(real), len(sandbox))
        for index, (one, other) in enumerate(zip(real, sandbox, strict=True)):
            found = first_difference(one, other, f"{path}.{index}")
            if found:
                return found
        return None
    if real != sandbox or type(real) is not type(sandbox):
        return (path or "the exchange", real, sandbox)
    return None


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + " ..."
