"""Load: many SDK clients at once, every acknowledged message delivered exactly once per
consumer group and once to its single consumer, in order per partition.

This is ``bench/soak.py`` run short (8 clients, 5 s of sends); the full classroom (32
clients, 30 s) runs behind the slow marker and as ``python -m bench.soak``.
"""

from __future__ import annotations

import pytest

from bench.soak import run_soak


async def soak(server, clients: int, duration: float, capsys) -> None:
    report = await run_soak(server.tcp_address, clients=clients, duration=duration,
                            partitions=8)
    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert report.acked, "the producers got no message acknowledged"
    assert report.ok, "\n".join(report.lines())


async def test_eight_clients_lose_and_repeat_nothing(fresh_sandbox, capsys):
    await soak(fresh_sandbox, 8, 5.0, capsys)


@pytest.mark.slow
async def test_a_classroom_of_32_clients_loses_and_repeats_nothing(fresh_sandbox, capsys):
    await soak(fresh_sandbox, 32, 30.0, capsys)
