"""The setup doctor names what is wrong and its fix, one line per check, within seconds.

Each test sets up one situation (a healthy server, none, a wrong password, a wrong HTTP
URL, a server of another version, Docker in several states) and asserts the lines printed.
Docker is faked: ``docker`` commands go to a table of canned answers.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from coursekit import docker_check
from coursekit import doctor as doctor_module
from coursekit.docker_check import compose_findings
from coursekit.doctor import FAIL, OK, WARN, doctor

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 1.0  # seconds per probe: short, the situations here answer at once or never


async def report(capsys: pytest.CaptureFixture[str]) -> tuple[bool, list[str]]:
    healthy = await doctor(timeout=TIMEOUT)
    return healthy, capsys.readouterr().out.splitlines()


def line(lines: list[str], start: str) -> str:
    """The one line that starts with ``start``."""
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, f"expected one line starting {start!r} in:\n" + "\n".join(lines)
    return found[0]


def fake_docker(monkeypatch: pytest.MonkeyPatch, answers: dict[str, tuple[int, str]]) -> None:
    """A ``docker`` on PATH whose commands answer from ``answers`` (keyed by the first word
    after ``docker``, or after ``docker compose``)."""
    monkeypatch.setattr(docker_check.shutil, "which", lambda name: f"/usr/bin/{name}")

    async def run(args: list[str], timeout: float) -> tuple[int, str]:
        command = args[3] if args[0] == "compose" else args[0]  # compose --file F <command>
        return answers.get(command, (1, f"unexpected docker {command}"))

    monkeypatch.setattr(docker_check, "run_docker", run)


def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_check.shutil, "which", lambda name: None)


@pytest.fixture
def nothing_answers(monkeypatch: pytest.MonkeyPatch, free_address: Callable[[], str]) -> None:
    monkeypatch.setenv("IGGY_TCP_ADDRESS", free_address())
    monkeypatch.setenv("IGGY_HTTP_URL", f"http://{free_address()}")
    monkeypatch.setenv("IGGY_AUTOSTART", "1")


EXITED_ON_NUMA = {
    "version": (0, "27.3.1|Docker Desktop 4.41.2 (191736)\n"),
    "ps": (0, '{"Service": "iggy", "Name": "iggy-course-iggy-1", "State": "exited", '
              '"Status": "Exited (101) 4 seconds ago"}\n'),
    "logs": (0, "iggy-1  | INFO starting\niggy-1  | ERROR failed to bind shard 0 memory "
                "to its NUMA node: Operation failed\n"),
}


async def test_healthy_setup_is_all_ok(iggy_server, capsys, monkeypatch):
    fake_docker(monkeypatch, {})  # present, but a server answers: Docker is not asked
    healthy, lines = await report(capsys)
    assert healthy
    assert line(lines, f"{OK} Python 3.")
    assert line(lines, f"{OK} apache-iggy 0.9.0")
    assert line(lines, f"{OK} TCP {iggy_server.tcp_address}")
    assert line(lines, f"{OK} HTTP {iggy_server.http_url}").endswith("GET /ping -> pong")
    assert "0.9.0" in line(lines, f"{OK} Server: ")
    assert line(lines, f"{OK} Login as 'iggy' works over TCP and HTTP")
    assert not any(text.startswith((FAIL, WARN)) for text in lines), lines
    assert not any("Docker" in text for text in lines), lines


async def test_no_server_says_how_to_start_one(nothing_answers, capsys, monkeypatch):
    no_docker(monkeypatch)
    healthy, lines = await report(capsys)
    assert not healthy
    tcp = line(lines, f"{FAIL} TCP ")
    assert "nothing answers" in tcp and "make lab" in tcp and "docker compose up" in tcp
    assert line(lines, f"{FAIL} HTTP ")
    assert not any(text.startswith(f"{FAIL} Server") or "Login" in text for text in lines)
    assert not any("Docker" in text for text in lines), "no docker here: no Docker lines"


async def test_no_server_and_autostart_off_without_docker(nothing_answers, capsys, monkeypatch):
    no_docker(monkeypatch)
    monkeypatch.setenv("IGGY_AUTOSTART", "0")
    _, lines = await report(capsys)
    assert "unset IGGY_AUTOSTART" in line(lines, f"{FAIL} TCP ")
    assert "install Docker" in line(lines, f"{WARN} Docker: no docker command")


async def test_docker_engine_down_is_named(nothing_answers, capsys, monkeypatch):
    fake_docker(monkeypatch, {"version": (1, "Cannot connect to the Docker daemon at "
                                             "unix:///var/run/docker.sock.")})
    _, lines = await report(capsys)
    engine = line(lines, f"{WARN} Docker: the engine does not answer")
    assert "Cannot connect to the Docker daemon" in engine and "start Docker Desktop" in engine
    assert line(lines, f"{OK} docker-compose.yml: apache/iggy:0.9.0")
    assert not any("If Iggy runs in Docker" in text for text in lines), "engine down: no list"


async def test_exited_container_with_numa_failure_gets_its_fix(nothing_answers, capsys,
                                                               monkeypatch):
    fake_docker(monkeypatch, EXITED_ON_NUMA)
    _, lines = await report(capsys)
    assert line(lines, f"{OK} Docker: Docker Desktop 4.41.2")
    assert "Exited (101)" in line(lines, f"{FAIL} Docker: container iggy-course-iggy-1 is exited")
    numa = line(lines, f"{FAIL} Docker log: ")
    assert "NUMA" in numa and "IGGY_SHARDING_CPU_ALLOCATION=all" in numa
    assert not any("If Iggy runs in Docker" in text for text in lines), "cause found: no list"


async def test_docker_desktop_4_42_is_named(nothing_answers, capsys, monkeypatch):
    answers = {**EXITED_ON_NUMA, "version": (0, "28.2.2|Docker Desktop 4.42.0 (195023)")}
    answers["logs"] = (0, "iggy-1  | ERROR io_uring setup failed: Operation not permitted\n")
    fake_docker(monkeypatch, answers)
    _, lines = await report(capsys)
    assert "4.43" in line(lines, f"{FAIL} Docker Desktop 4.42 broke io_uring")
    assert not any(text.startswith(f"{FAIL} Docker log") for text in lines), "said once"


async def test_unexplained_failure_lists_the_pitfalls(nothing_answers, capsys, monkeypatch):
    fake_docker(monkeypatch, {**EXITED_ON_NUMA, "logs": (0, "iggy-1  | INFO started\n")})
    _, lines = await report(capsys)
    checklist = [text for text in lines if text.startswith(f"{WARN} If Iggy runs in Docker")]
    fixes = " ".join(checklist)
    for fix in ("seccomp:unconfined", "4.43", "IGGY_SHARDING_CPU_ALLOCATION=all",
                "IGGY_NODE_ADVERTISED_ADDRESS", "apache/iggy:0.9.0"):
        assert fix in fixes, f"{fix} missing from the checklist:\n" + "\n".join(checklist)
    assert len(checklist) == len(docker_check.PITFALLS)


async def test_missing_container_says_compose_up(nothing_answers, capsys, monkeypatch):
    fake_docker(monkeypatch, {**EXITED_ON_NUMA, "ps": (0, "")})
    _, lines = await report(capsys)
    assert "docker compose up -d --wait" in line(lines, f"{FAIL} Docker: the course's container")


def test_compose_file_without_the_needed_settings(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(
        "services:\n  iggy:\n    image: apache/iggy:latest\n"
        "    environment:\n      IGGY_TCP_ADDRESS: 0.0.0.0:8090\n"
    )
    findings, explained = compose_findings(compose)
    assert explained == set(docker_check.PITFALLS)
    text = "\n".join(str(finding) for finding in findings)
    assert all(finding.mark == FAIL for finding in findings)
    for fix in ("seccomp:unconfined", "IGGY_SHARDING_CPU_ALLOCATION=all",
                "IGGY_NODE_ADVERTISED_ADDRESS=localhost", "image: apache/iggy:0.9.0"):
        assert fix in text, text


def test_the_course_compose_file_prevents_every_pitfall():
    findings, explained = compose_findings(docker_check.COMPOSE_FILE)
    assert not explained
    assert [finding.mark for finding in findings] == [OK]


async def test_wrong_password_is_named(iggy_server, capsys, monkeypatch):
    monkeypatch.setenv("IGGY_PASSWORD", "not-the-password")
    healthy, lines = await report(capsys)
    assert not healthy
    login = line(lines, f"{FAIL} Login as 'iggy': the server refused that password")
    assert "IGGY_USERNAME and IGGY_PASSWORD" in login
    assert line(lines, f"{OK} TCP ") and line(lines, f"{OK} HTTP ")


async def test_wrong_http_url_is_named(iggy_server, capsys, monkeypatch, free_address):
    wrong = f"http://{free_address()}"
    monkeypatch.setenv("IGGY_HTTP_URL", wrong)
    healthy, lines = await report(capsys)
    assert not healthy
    http = line(lines, f"{FAIL} HTTP {wrong}: no answer (")
    assert "IGGY_HTTP_URL" in http and "3000" in http
    assert line(lines, f"{OK} TCP ") and line(lines, f"{OK} Login as 'iggy' works over TCP")


async def test_http_url_of_another_program_or_no_url(iggy_server, capsys, monkeypatch):
    monkeypatch.setenv("IGGY_HTTP_URL", f"{iggy_server.http_url}/not-iggy")
    _, lines = await report(capsys)
    assert "HTTP 404" in line(lines, f"{FAIL} HTTP {iggy_server.http_url}/not-iggy answers, but")
    monkeypatch.setenv("IGGY_HTTP_URL", "127.0.0.1:3000")
    _, lines = await report(capsys)
    assert "http://127.0.0.1:3000" in line(lines, f"{FAIL} IGGY_HTTP_URL='127.0.0.1:3000'")


@pytest_asyncio.fixture
async def iggy_0_10(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """A server of the next version: its TCP port accepts and never answers the 0.9 login
    (another protocol), its REST API logs in and reports 0.10.1."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    async def login(request: web.Request) -> web.Response:
        return web.json_response({"user_id": 0, "access_token": {"token": "t", "expiry": 0}})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"iggy_server_version": "0.10.1"})

    tcp = await asyncio.start_server(silent, "127.0.0.1", 0)
    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_post("/users/login", login)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    http_port = runner.addresses[0][1]
    monkeypatch.setenv("IGGY_TCP_ADDRESS", f"127.0.0.1:{tcp.sockets[0].getsockname()[1]}")
    monkeypatch.setenv("IGGY_HTTP_URL", f"http://127.0.0.1:{http_port}")
    try:
        yield
    finally:
        tcp.close()
        await runner.cleanup()


async def test_server_of_another_version_is_named(iggy_0_10, capsys, monkeypatch):
    no_docker(monkeypatch)
    started = time.monotonic()
    healthy, lines = await report(capsys)
    assert time.monotonic() - started < 10 * TIMEOUT, "a silent server must not hold it up"
    assert not healthy
    server = line(lines, f"{FAIL} Server: Apache Iggy 0.10.1, but SDK 0.9.0 speaks")
    assert "apache/iggy:0.9.0" in server and ":latest is 0.10" in server
    assert not any("Login" in text for text in lines), "no verdict on a password then"
    assert line(lines, f"{OK} docker-compose.yml: apache/iggy:0.9.0")


async def test_port_that_never_answers_iggy(iggy_0_10, capsys, monkeypatch, free_address):
    monkeypatch.setenv("IGGY_HTTP_URL", f"http://{free_address()}")
    no_docker(monkeypatch)
    _, lines = await report(capsys)
    assert "apache/iggy:latest is 0.10" in line(lines, f"{FAIL} Server at ")


async def test_python_and_sdk_outside_what_the_course_supports(iggy_server, capsys,
                                                               monkeypatch):
    monkeypatch.setattr(doctor_module, "PYTHONS", ((3, 14), (3, 15)))
    monkeypatch.setattr(doctor_module, "version", lambda name: "0.10.0")
    _, lines = await report(capsys)
    assert "make PYTHON=python3.12" in line(lines, f"{FAIL} Python ")
    assert "pip install apache-iggy==0.9.0" in line(lines, f"{FAIL} apache-iggy 0.10.0")

    def not_installed(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr(doctor_module, "version", not_installed)
    _, lines = await report(capsys)
    assert "make lab" in line(lines, f"{FAIL} apache-iggy is not installed")


def test_make_doctor_exits_1_with_lines_and_no_traceback(free_address):
    env = {"IGGY_TCP_ADDRESS": free_address(), "IGGY_HTTP_URL": f"http://{free_address()}",
           "PATH": "/usr/bin:/bin", "IGGY_AUTOSTART": "1"}
    result = subprocess.run([sys.executable, "-m", "coursekit.doctor"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{FAIL} TCP " in result.stdout and "problem(s)" in result.stdout
