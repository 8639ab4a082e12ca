"""A hundred SIGKILLs during sends: the classroom's server loses nothing it acknowledged.

``bench/kill_restart.py`` with 100 kills (the everyday run in test_reliability_faults.py
makes 3, and 20 behind the slow marker): after every restart each acknowledged message is
at its offset with its payload, offsets stay dense and nothing goes backwards.
"""

from __future__ import annotations

import pytest

from tests.test_reliability_faults import kill_restart


@pytest.mark.slow
async def test_a_hundred_sigkills_during_sends_lose_nothing_acknowledged(tmp_path, capsys):
    await kill_restart(tmp_path, 100, capsys)
