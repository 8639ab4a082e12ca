"""The sandbox answers as the real Apache Iggy did: the golden files, replayed.

A private sandbox (fresh data directory, so ids start where the recording's did, and a
cleaner every ``REPLAY_CLEANER_INTERVAL`` seconds) runs every parity scenario once; each
test compares one scenario with its recording (``tests/parity/golden``, made by
``make parity-record`` against a real server). A difference fails the test unless
``tests/parity/deliberate.py`` lists it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT_CREDENTIALS

from sandbox.launch import SandboxProcess, start_sandbox
from tests.parity import golden
from tests.parity.compare import compare
from tests.parity.deliberate import (
    DELIBERATE,
    deliberate_steps,
    without_release_skew,
)
from tests.parity.exchange import Target
from tests.parity.run import run_all
from tests.parity.scenarios import SCENARIOS

REPLAY_CLEANER_INTERVAL = 0.2  # seconds; the scenarios' waits scale with it
ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def parity_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    data_dir = tmp_path_factory.mktemp("parity") / "data"
    process = start_sandbox(data_dir=data_dir, log_file=data_dir.with_suffix(".log"),
                            env={**os.environ, **ROOT_CREDENTIALS},
                            extra_args=("--cleaner-interval", str(REPLAY_CLEANER_INTERVAL)))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def replayed(parity_sandbox: SandboxProcess) -> dict[str, list[dict]]:
    """Every scenario's exchanges with the sandbox, in the recording's order."""
    target = Target(parity_sandbox.tcp_address, parity_sandbox.http_url,
                    REPLAY_CLEANER_INTERVAL)
    return asyncio.run(run_all(target))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_sandbox_answers_as_the_real_server(name: str,
                                                replayed: dict[str, list[dict]]) -> None:
    recorded = golden.read_scenario(name)
    if recorded is None:
        pytest.fail(f"no golden file for {name}: record it against a real server with "
                    "make parity-record (see tests/parity/record.py)", pytrace=False)
    differences = compare(without_release_skew(recorded),
                          without_release_skew(replayed[name]))
    deliberate = deliberate_steps(name)
    stale = sorted(set(deliberate) - {d.step for d in differences})
    unexplained = [d for d in differences if d.step not in deliberate]
    messages = [str(d) for d in unexplained]
    messages += [f"step {step!r} is listed as a deliberate difference but matches the real "
                 "server now: remove it from tests/parity/deliberate.py and "
                 "docs/architecture.md" for step in stale]
    if messages:
        pytest.fail(f"{name}: the sandbox differs from the real server\n\n"
                    + "\n\n".join(messages), pytrace=False)


def test_every_listed_difference_names_a_recorded_step() -> None:
    for entry in DELIBERATE:
        recorded = golden.read_scenario(entry.scenario) or []
        assert entry.step in {e["step"] for e in recorded}, entry


def test_every_deliberate_difference_is_documented() -> None:
    text = ARCHITECTURE.read_text()
    missing = [entry for entry in DELIBERATE if entry.documented_as not in text]
    assert not missing, f"docs/architecture.md does not mention: {missing}"


def test_the_recording_has_enough_exchanges() -> None:
    """The golden files cover at least 200 exchanges (issue 8), all of them compared."""
    counts = {name: len(golden.read_scenario(name) or []) for name in SCENARIOS}
    assert sum(counts.values()) >= 200, counts
