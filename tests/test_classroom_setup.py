"""``make classroom``: learner users on a shared server, each working in their own namespace."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest
from apache_iggy import IggyClient
from test_notebooks import NOTEBOOKS_DIR, PASSED, printed, run, solved

import helpers
from coursekit.settings import REPO_ROOT
from helpers.connection import connect

EXPORT = re.compile(r"^export IGGY_USERNAME=(\w+) IGGY_PASSWORD=(\S+) COURSE_LEARNER=(\w+)$", re.M)


def classroom(server, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IGGY_TCP_ADDRESS": server.tcp_address,
           "IGGY_HTTP_URL": server.http_url, "IGGY_USERNAME": "iggy", "IGGY_PASSWORD": "iggy",
           "IGGY_AUTOSTART": "0"}
    return subprocess.run([sys.executable, "-m", "coursekit.classroom", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


async def as_learner(server, name: str, password: str) -> IggyClient:
    return await connect(server.tcp_address, username=name, password=password, announce=False)


async def test_learners_get_users_that_run_the_course_in_their_own_namespace(
    fresh_sandbox, monkeypatch
):
    made = classroom(fresh_sandbox, "2", "--names", "ana")
    assert made.returncode == 0, made.stderr
    credentials = {name: password for name, password, _ in EXPORT.findall(made.stdout)}
    assert sorted(credentials) == ["ana", "learner01", "learner02"]
    assert f"IGGY_TCP_ADDRESS={fresh_sandbox.tcp_address}" in made.stdout

    ana = await as_learner(fresh_sandbox, "ana", credentials["ana"])
    bo = await as_learner(fresh_sandbox, "learner01", credentials["learner01"])
    assert (await helpers.server_info(ana)).kind == "sandbox"  # reading stats is granted
    with pytest.raises(RuntimeError):  # managing users is not
        await ana.create_user("mallory", "secret-secret")

    monkeypatch.setenv("COURSE_LEARNER", "learner01")
    await helpers.ensure_topic(bo, helpers.prefix("nb03") + "shop", "keyed")
    await helpers.produce(bo, helpers.prefix("nb03") + "shop", "keyed", ["from bo"])
    monkeypatch.setenv("COURSE_LEARNER", "ana")
    await helpers.ensure_topic(ana, helpers.prefix("nb03") + "shop", "keyed")
    assert await helpers.reset_all(ana) == ["ana-nb03-shop"]
    assert [s.name for s in await ana.get_streams()] == ["learner01-nb03-shop"]


def test_a_second_run_keeps_users_and_renew_and_remove_work(fresh_sandbox):
    first = classroom(fresh_sandbox, "--names", "ana,bob")
    again = classroom(fresh_sandbox, "--names", "ana,bob")
    assert again.returncode == 0 and "0 learner user(s) created, 2 kept" in again.stdout
    assert "--renew" in again.stdout and not EXPORT.search(again.stdout)
    renewed = classroom(fresh_sandbox, "--names", "ana", "--renew")
    old, new = EXPORT.search(first.stdout).group(2), EXPORT.search(renewed.stdout).group(2)
    assert old != new
    removed = classroom(fresh_sandbox, "--names", "ana,bob,cyd", "--remove")
    assert "Deleted 2 learner user(s): ana, bob" in removed.stdout


@pytest.mark.parametrize("args", [["--names", "ana smith"], ["--names", "nb03"], []])
def test_bad_learner_names_are_refused_before_anything_is_created(fresh_sandbox, args):
    result = classroom(fresh_sandbox, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "learner" in result.stderr.lower()


def test_a_teacher_without_the_root_user_is_told_so(fresh_sandbox):
    made = classroom(fresh_sandbox, "--names", "ana")
    password = EXPORT.search(made.stdout).group(2)
    env_as_ana = ["--names", "bob"]
    result = subprocess.run(
        [sys.executable, "-m", "coursekit.classroom", *env_as_ana], cwd=REPO_ROOT,
        env={**os.environ, "IGGY_TCP_ADDRESS": fresh_sandbox.tcp_address,
             "IGGY_USERNAME": "ana", "IGGY_PASSWORD": password, "IGGY_AUTOSTART": "0"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "root user" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_learner_runs_a_notebook_with_their_own_user_and_namespace(
    iggy_server, monkeypatch
):
    """Notebook 01, solved, as a classroom learner: it works with the learner's grants, and
    its names and its reset stay inside the learner's namespace."""
    made = classroom(iggy_server, "--names", "nbtester", "--renew")
    name, password, _ = EXPORT.findall(made.stdout)[0]
    notebook = NOTEBOOKS_DIR / "01_first_messages.ipynb"
    monkeypatch.setenv("IGGY_USERNAME", name)
    monkeypatch.setenv("IGGY_PASSWORD", password)
    monkeypatch.setenv("COURSE_LEARNER", name)
    nb = solved(nbformat.read(notebook, as_version=4), notebook)
    (verdicts,) = run(nb, notebook.name)
    assert all(PASSED in text for text in verdicts.values()), verdicts
    assert any(f"{name}-nb01-" in printed(cell) for cell in nb.cells)
