"""Where the sandbox answers differently from the recorded real server, and why.

Two lists, both short and explicit:

- ``DELIBERATE``: differences kept on purpose. Each names the step, says why, and quotes a
  phrase that docs/architecture.md contains, so the difference is documented where a
  learner looks. The replay fails if such a step stops differing (the list went stale).
- ``WAITING``: differences with a fix under way elsewhere; they do not fail the replay,
  and the replay says when one no longer differs so the entry can go.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deliberate:
    scenario: str
    step: str
    reason: str
    documented_as: str  # a phrase docs/architecture.md contains


@dataclass(frozen=True)
class Waiting:
    scenario: str
    steps: tuple[str, ...]  # empty: every step of the scenario
    reason: str


DELIBERATE: tuple[Deliberate, ...] = ()

WAITING: tuple[Waiting, ...] = ()


def deliberate_steps(scenario: str) -> dict[str, Deliberate]:
    return {entry.step: entry for entry in DELIBERATE if entry.scenario == scenario}


def waiting_steps(scenario: str, steps: list[str]) -> dict[str, Waiting]:
    """The steps of ``scenario`` (out of ``steps``) whose difference waits for a fix."""
    found = {}
    for entry in WAITING:
        if entry.scenario == scenario:
            found.update({step: entry for step in (entry.steps or steps)})
    return found
