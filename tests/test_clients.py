"""The classic producer and consumer scripts, run as a learner runs them."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time

from helpers.settings import REPO_ROOT

RUN_TIMEOUT = 60  # seconds: a script that takes longer is hanging


def run_client(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
    )


def sent_payloads(stderr: str) -> list[dict]:
    """The JSON the producer logged as sent, in order."""
    lines = stderr.splitlines()
    return [json.loads(line.split(" sent ", 1)[1]) for line in lines if " sent {" in line]


def test_consumer_prints_what_the_producer_sent_in_order(iggy_server, unique):
    where = ["--stream", unique("nbclients"), "--topic", "readings"]
    producer = run_client("clients/producer.py", "--count", "3", "--interval", "0.1", *where)
    assert producer.returncode == 0, producer.stderr
    sent = sent_payloads(producer.stderr)
    assert [m["id"] for m in sent] == [0, 1, 2]
    assert set(sent[0]) == {"id", "sensor", "value", "ts"}

    consumer = run_client("clients/consumer.py", "--count", "3", "--interval", "0.1", *where)
    assert consumer.returncode == 0, consumer.stderr
    printed = re.findall(r"^\[offset=(\d+)\] (.*)$", consumer.stdout, flags=re.MULTILINE)
    assert [int(offset) for offset, _ in printed] == [0, 1, 2]
    assert [json.loads(payload) for _, payload in printed] == sent


def test_consumer_goes_on_where_it_stopped(iggy_server, unique):
    where = ["--stream", unique("nbclients"), "--topic", "readings"]
    run_client("-m", "clients.producer", "--count", "2", "--interval", "0", *where)
    first = run_client("-m", "clients.consumer", "--count", "1", "--interval", "0.1", *where)
    second = run_client("-m", "clients.consumer", "--count", "1", "--interval", "0.1", *where)
    assert "[offset=0]" in first.stdout
    assert "[offset=1]" in second.stdout and "[offset=0]" not in second.stdout


def test_ctrl_c_stops_the_producer_without_a_traceback(iggy_server, unique):
    where = ["--stream", unique("nbclients"), "--topic", "readings"]
    producer = subprocess.Popen(
        [sys.executable, "clients/producer.py", "--interval", "0.2", *where],
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert _wait_for_output(producer, " sent {"), "the producer sent nothing"
        producer.send_signal(signal.SIGINT)
        _, stderr = producer.communicate(timeout=RUN_TIMEOUT)
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()
    assert producer.returncode == 0
    assert "Stopped (Ctrl+C)" in stderr
    assert "Traceback" not in stderr


def test_scripts_without_a_server_explain_what_to_run(closed_address):
    env = {**os.environ, "IGGY_TCP_ADDRESS": closed_address, "IGGY_AUTOSTART": "0"}
    result = run_client("clients/consumer.py", "--count", "1", env=env)
    assert result.returncode == 1
    assert "make lab" in result.stderr
    assert "Traceback" not in result.stderr


def _wait_for_output(process: subprocess.Popen, needle: str, timeout: float = 30) -> bool:
    """Read the process's stderr until a line contains ``needle`` (False at the deadline)."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                line = process.stderr.readline()
                if not line:
                    return False
                if needle in line:
                    return True
    return False
