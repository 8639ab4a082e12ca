"""Faults: SIGKILL during sends, damaged metadata, clients that vanish mid-frame, group
members whose process dies.

The kill/restart loop is ``bench/kill_restart.py`` run short (3 kills; 20 behind the slow
marker): nothing acknowledged is lost, offsets never go backwards, the server always
starts. A metadata file damaged in ways the torn-tail and garbage tests of
test_sandbox_durability.py do not cover must stop the start with a message naming the file,
never a traceback. A group member that vanishes (cut frame, reset, killed process) leaves
the group consistent: its partitions go to the member that stays.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apache_iggy import IggyClient
from conftest import ROOT_CREDENTIALS

from bench.kill_restart import run_kill_restart
from bench.soak import connect
from sandbox.launch import SandboxProcess, SandboxStartError, start_sandbox
from tests.server_probe import answers_ping
from tests.wire_client import request_frame
from tests.wire_session import exchange, identifier, logged_in, name

REPO_ROOT = Path(__file__).resolve().parent.parent
ROOT_ENV = {**os.environ, **ROOT_CREDENTIALS}
STREAM, TOPIC, GROUP = "faults", "t", "g"
PARTITIONS = 4


# --- the kill/restart loop -------------------------------------------------------------------


async def kill_restart(tmp_path: Path, kills: int, capsys) -> None:
    report = await run_kill_restart(tmp_path / "data", kills, partitions=3, seed=kills,
                                    log_file=tmp_path / "sandbox.log")
    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert report.acked > 0 and report.kills == kills
    assert report.ok, "\n".join(report.lines())


async def test_sigkill_during_sends_loses_nothing_acknowledged(tmp_path, capsys):
    await kill_restart(tmp_path, 3, capsys)


@pytest.mark.slow
async def test_twenty_sigkills_during_sends_lose_nothing_acknowledged(tmp_path, capsys):
    await kill_restart(tmp_path, 20, capsys)


# --- damaged metadata ------------------------------------------------------------------------

DAMAGE = {
    "empty file": lambda raw: b"",
    "not UTF-8": lambda raw: b"\xff" + raw,
    "JSON of another shape": lambda raw: b'{"format": 1}',
    "users not a list": lambda raw: raw.replace(b'"users":[', b'"users":{"x":[', 1).replace(
        b'],"tokens"', b']},"tokens"', 1),
    "a user without its password hash": lambda raw: raw.replace(b'"password_hash"',
                                                                b'"password_hush"', 1),
}


def damaged_data_dir(tmp_path: Path, damage: str) -> tuple[Path, bytes]:
    """A data directory whose metadata.json was damaged after a clean stop."""
    data_dir = tmp_path / "data"
    start_sandbox(data_dir=data_dir, env=ROOT_ENV).stop()
    metadata = data_dir / "metadata.json"
    damaged = DAMAGE[damage](metadata.read_bytes())
    assert damaged != metadata.read_bytes(), f"{damage}: the damage changed nothing"
    metadata.write_bytes(damaged)
    return data_dir, damaged


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_metadata_refuses_to_start_and_names_the_file(tmp_path, damage):
    data_dir, damaged = damaged_data_dir(tmp_path, damage)
    log = tmp_path / "sandbox.log"
    with pytest.raises(SandboxStartError) as refused:
        start_sandbox(data_dir=data_dir, env=ROOT_ENV, log_file=log, timeout=30).stop()
    assert "metadata.json" in str(refused.value), f"unclear refusal: {refused.value}"
    assert "Traceback" not in log.read_text(), log.read_text()[-2000:]
    assert (data_dir / "metadata.json").read_bytes() == damaged  # nothing silently "repaired"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_metadata_exits_nonzero_and_names_the_file(tmp_path, damage):
    data_dir, _ = damaged_data_dir(tmp_path, damage)
    run = subprocess.run([sys.executable, "-m", "sandbox", "--tcp", "127.0.0.1:0", "--http",
                          "127.0.0.1:0", "--data-dir", str(data_dir)], cwd=REPO_ROOT, env=ROOT_ENV,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "iggy-sandbox ready" not in run.stdout
    assert "metadata.json" in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]


# --- group members that vanish ---------------------------------------------------------------


@pytest.fixture
def group_server(fresh_sandbox) -> SandboxProcess:
    with logged_in(fresh_sandbox.tcp_address) as sock:
        for operation, body in ((128, name(STREAM)),
                                (132, identifier(STREAM) + struct.pack("<I", PARTITIONS)
                                 + name(TOPIC)),
                                (139, identifier(STREAM) + identifier(TOPIC) + name(GROUP))):
            reason, reply = exchange(sock, body=body, operation=operation)
            assert reason is None and reply.body[:4] == b"\0\0\0\0"
    return fresh_sandbox


async def member_partitions(client: IggyClient) -> list[list[int]]:
    group = await client.get_consumer_group(STREAM, TOPIC, GROUP)
    return [sorted(member.partitions) for member in group.members]


async def wait_for_members(client: IggyClient, expected: list[list[int]],
                           timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := await member_partitions(client)) != expected:
        assert time.monotonic() < deadline, f"group members own {seen}, expected {expected}"
        await asyncio.sleep(0.1)


def join_raw(address: str) -> socket.socket:
    sock = logged_in(address)
    reason, reply = exchange(sock, body=identifier(STREAM) + identifier(TOPIC)
                             + identifier(GROUP), operation=148)
    assert reason is None and reply.body == b"\0\0\0\0", "raw join refused"
    return sock


def vanish(sock: socket.socket, how: str) -> None:
    poll = request_frame(606, identifier(STREAM) + identifier(TOPIC) + identifier(GROUP))
    if how == "mid-header":
        sock.sendall(poll[:100])
    elif how == "mid-body":
        sock.sendall(poll[:-3])
    if how != "closes cleanly":  # reset: no FIN, as when a machine drops off the network
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("how", ["mid-header", "mid-body", "resets", "closes cleanly"])
async def test_member_that_vanishes_gives_its_partitions_to_the_one_that_stays(
        group_server, how):
    staying = await connect(group_server.tcp_address)
    await staying.join_consumer_group(STREAM, TOPIC, GROUP)
    leaving = join_raw(group_server.tcp_address)
    await wait_for_members(staying, [[0, 1], [2, 3]])

    vanish(leaving, how)
    await wait_for_members(staying, [[0, 1, 2, 3]])
    assert await answers_ping(group_server.tcp_address)


MEMBER_SCRIPT = """
import asyncio, datetime, sys
from apache_iggy import IggyClient
async def main():
    client = IggyClient(sys.argv[1])
    await client.connect()
    await client.login_user("iggy", "iggy")
    await client.consumer_group("g", "faults", "t",
                                poll_interval=datetime.timedelta(milliseconds=100))
    print("joined", flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
"""


async def test_member_whose_process_is_killed_gives_its_partitions_away(group_server):
    staying = await connect(group_server.tcp_address)
    await staying.join_consumer_group(STREAM, TOPIC, GROUP)
    member = subprocess.Popen([sys.executable, "-c", MEMBER_SCRIPT, group_server.tcp_address],
                              stdout=subprocess.PIPE, text=True, env=ROOT_ENV)
    try:
        assert member.stdout.readline().strip() == "joined"
        await wait_for_members(staying, [[0, 1], [2, 3]])
    finally:
        member.kill()  # a learner's kernel dies: no leave, no logout
        member.wait(10)
        member.stdout.close()
    await wait_for_members(staying, [[0, 1, 2, 3]])
