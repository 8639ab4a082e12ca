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
from datetime import datetime

from coursekit.settings import REPO_ROOT

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
    """The JSON the producer logged as sent ("Sent message #n: {...}"), in order."""
    return [json.loads(m) for m in re.findall(r"Sent message #\d+: (\{.*\})$", stderr, re.M)]


def received(stderr: str) -> list[tuple[int, str]]:
    """What the consumer logged: "[offset=N] {...}" as (N, payload), in order."""
    lines = re.findall(r"\| INFO +\| \[offset=(\d+)\] (.*)$", stderr, flags=re.MULTILINE)
    return [(int(offset), payload) for offset, payload in lines]


def test_consumer_prints_what_the_producer_sent_in_order(iggy_server, unique):
    where = ["--stream", unique("nbclients"), "--topic", "readings"]
    producer = run_client("clients/producer.py", "--count", "3", "--interval", "0.1", *where)
    assert producer.returncode == 0, producer.stderr
    sent = sent_payloads(producer.stderr)
    assert [m["id"] for m in sent] == [0, 1, 2]
    assert {m["text"] for m in sent} == {"hello from producer"}
    assert all(datetime.fromisoformat(m["ts"]) for m in sent)
    assert "Sent message #0: {" in producer.stderr

    consumer = run_client("clients/consumer.py", "--count", "3", "--interval", "0.1", *where)
    assert consumer.returncode == 0, consumer.stderr
    printed = received(consumer.stderr)
    assert [offset for offset, _ in printed] == [0, 1, 2]
    assert [json.loads(payload) for _, payload in printed] == sent


def test_consumer_goes_on_where_it_stopped(iggy_server, unique):
    where = ["--stream", unique("nbclients"), "--topic", "readings"]
    run_client("-m", "clients.producer", "--count", "2", "--interval", "0", *where)
    first = run_client("-m", "clients.consumer", "--count", "1", "--interval", "0.1", *where)
    second = run_client("-m", "clients.consumer", "--count", "1", "--interval", "0.1", *where)
    assert [offset for offset, _ in received(first.stderr)] == [0]
    assert [offset for offset, _ in received(second.stderr)] == [1]


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
        assert _wait_for_output(producer, "Sent message #"), "the producer sent nothing"
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


def test_learner_name_goes_in_front_of_the_default_stream(iggy_server):
    env = {**os.environ, "COURSE_LEARNER": "ana"}
    producer = run_client("clients/producer.py", "--count", "1", "--interval", "0", env=env)
    assert producer.returncode == 0, producer.stderr
    assert "ana-demo-stream/demo-topic" in producer.stderr


def test_a_bad_learner_name_is_refused_with_what_to_use():
    env = {**os.environ, "COURSE_LEARNER": "ana smith"}
    result = run_client("clients/consumer.py", "--count", "1", env=env)
    assert result.returncode == 2
    assert "COURSE_LEARNER" in result.stderr and "Traceback" not in result.stderr
