"""A classroom on one sandbox: each learner's producer, consumer, consumer group of 3 and
notebook at once; nothing lost, repeated or reordered, and pings fast while it runs.

This is ``bench/classroom.py`` run short (4 learners, 10 s of load); the full classroom (100
learners, 60 s) runs behind the slow marker and as ``python -m bench.classroom``. Its figures
on the project's 2-core machine are in docs/architecture.md.
"""

from __future__ import annotations

import os
import sys

import pytest
from conftest import ROOT_CREDENTIALS

from bench.classroom import run_classroom
from sandbox.launch import start_sandbox

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="reads the server's CPU time and memory from /proc")


def classroom(tmp_path, learners: int, duration: float, workers: int, capsys) -> None:
    with start_sandbox(data_dir=tmp_path / "data", log_file=tmp_path / "sandbox.log",
                       env={**os.environ, **ROOT_CREDENTIALS}) as server:
        report = run_classroom(server.tcp_address, server.pid, learners, duration, workers,
                               pause=0.5, idle_poll=0.5)
    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())


def test_four_learners_lose_repeat_and_reorder_nothing_and_ping_fast(tmp_path, capsys):
    classroom(tmp_path, 4, 10.0, 1, capsys)


@pytest.mark.slow
def test_a_classroom_of_100_learners(tmp_path, capsys):
    classroom(tmp_path, 100, 60.0, 4, capsys)
