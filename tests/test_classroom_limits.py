"""Runaway cells: polls and sends past the server's limits get Iggy's answers, a loop of
clients runs into the per-host connection limit, and the sandbox's memory stays bounded.

The cases themselves are ``bench/classroom_runaway.py`` run small (20 MB stored, 4 senders
of 20 MB, 8 pollers, a limit of 10 connections); the full figures are in
docs/architecture.md. The pieces that bound memory (the poll cap and the shared budget for
large requests) are tested on their own below.
"""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from conftest import ROOT_CREDENTIALS

from bench.classroom_runaway import Scale, run_runaway
from sandbox.launch import start_sandbox
from sandbox.server.budget import ByteBudget
from sandbox.storage.segments import PartitionLog
from tests.test_sandbox_storage import append

# The small run peaks near 230 MB; without the poll cap and the budget its 8 pollers alone
# would hold 8 copies of everything stored (over 800 MB).
PEAK_LIMIT_MB = 500


@pytest.mark.skipif(sys.platform != "linux", reason="reads the server's memory from /proc")
async def test_runaway_cells_get_iggys_answers_and_memory_stays_bounded(tmp_path, capsys):
    with start_sandbox(data_dir=tmp_path / "data", log_file=tmp_path / "sandbox.log",
                       env={**os.environ, **ROOT_CREDENTIALS},
                       extra_args=("--max-connections-per-host", "10")) as server:
        report = await run_runaway(server, Scale.of(0.2, connections=10))
    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())
    assert report.peak_mb < PEAK_LIMIT_MB, "\n".join(report.lines())
    log = (tmp_path / "sandbox.log").read_text()
    assert log.count("refused a connection from 127.0.0.1") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


# --- a poll stops at a byte budget, in whole batches ------------------------------------------


@pytest.fixture
def log_of_batches(tmp_path):
    """Batches of 4, 4 and 2 messages of 100 bytes, then a second segment of 2 batches."""
    log = PartitionLog(tmp_path, segment_size=1 << 20)
    for count in (4, 4, 2):
        append(log, [b"x" * 100] * count)
    log.segments[-1].sealed = True
    for count in (3, 3):
        append(log, [b"y" * 100] * count)
    yield log
    log.close()


def batch_bytes(log: PartitionLog, segment: int, batch: int) -> int:
    positions = log.segments[segment].positions
    end = positions[batch + 1] if batch + 1 < len(positions) else log.segments[segment].size
    return end - positions[batch]


def test_a_poll_within_the_budget_reads_everything(log_of_batches):
    assert log_of_batches.end_within(0, 16, 1 << 20) == 16


def test_a_poll_stops_before_the_batch_that_does_not_fit(log_of_batches):
    first_two = batch_bytes(log_of_batches, 0, 0) + batch_bytes(log_of_batches, 0, 1)
    assert log_of_batches.end_within(0, 16, first_two) == 8
    assert log_of_batches.end_within(0, 16, first_two - 1) == 4


def test_a_poll_always_gets_the_batch_it_starts_in_but_never_past_its_count(log_of_batches):
    assert log_of_batches.end_within(1, 16, 1) == 4
    assert log_of_batches.end_within(1, 3, 1) == 3


def test_a_poll_across_segments_stops_at_the_segment_that_does_not_fit(log_of_batches):
    first_segment = log_of_batches.segments[0].size
    assert log_of_batches.end_within(0, 16, first_segment) == 10
    assert log_of_batches.end_within(0, 16, first_segment + batch_bytes(log_of_batches, 1, 0)) \
        == 13


# --- the shared budget for large requests ------------------------------------------------------


async def test_the_budget_makes_large_requests_wait_their_turn():
    budget = ByteBudget(100)
    assert await budget.take(60) == 60
    waiting = asyncio.ensure_future(budget.take(60))
    await asyncio.sleep(0.01)
    assert not waiting.done(), "took more than the budget holds"
    budget.give(60)
    assert await asyncio.wait_for(waiting, 1) == 60 and budget.free == 40


async def test_a_request_larger_than_the_budget_takes_all_of_it_and_still_runs():
    budget = ByteBudget(100)
    assert await asyncio.wait_for(budget.take(1000), 1) == 100 and budget.free == 0
    budget.give(100)
    assert budget.free == 100
