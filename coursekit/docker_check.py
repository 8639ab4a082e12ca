"""The doctor's Docker checks: the known ways Apache Iggy 0.9.0 fails in a container.

What can be seen is checked: the compose file's settings, whether the Docker engine
answers (and whether it is Docker Desktop 4.42), the course's container and the known
failures in its log. Pitfalls that leave no trace from here are printed as a checklist,
only when no server answers. Every ``docker`` command has a deadline.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coursekit.doctor import FAIL, OK, WARN, Finding
from coursekit.settings import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICE = "iggy"  # the service name in docker-compose.yml
LOG_LINES = 200  # how much of the container's log is searched


@dataclass(frozen=True)
class Pitfall:
    """A known failure: how to spot it in the container's log, whether a compose file's
    text prevents it, and the fix."""

    name: str
    log_pattern: re.Pattern[str] | None
    prevented_by: Callable[[str], bool]
    fix: str


IO_URING = Pitfall(
    "io_uring blocked: Docker Engine 25+ forbids it in its default seccomp profile, and "
    "Docker Desktop 4.42 broke it",
    re.compile(r"io_uring|operation not permitted", re.IGNORECASE),
    re.compile(r"seccomp[:=]unconfined").search,
    "keep security_opt: [seccomp:unconfined], ulimits memlock: -1 and cap_add: [SYS_NICE] "
    "from docker-compose.yml; update Docker Desktop 4.42 to 4.43+; Linux kernel 5.19+",
)
NUMA = Pitfall(
    "NUMA: 0.9.0 exits with 'failed to bind shard 0 memory to its NUMA node' on Docker "
    "Desktop, WSL2 and other single-NUMA hosts",
    re.compile(r"NUMA"),
    re.compile(r"IGGY_SHARDING_CPU_ALLOCATION\W+all").search,
    "IGGY_SHARDING_CPU_ALLOCATION=all in the container's environment (fixed only in 0.10)",
)
ADVERTISED = Pitfall(
    "a 0.0.0.0 bind stops the server at start without an advertised address",
    re.compile(r"advertised", re.IGNORECASE),
    lambda text: "0.0.0.0" not in text or "IGGY_NODE_ADVERTISED_ADDRESS" in text,
    "IGGY_NODE_ADVERTISED_ADDRESS=localhost (a host name, no port)",
)
LATEST = Pitfall(
    "apache/iggy:latest is 0.10, whose protocol the 0.9.0 SDK cannot speak",
    None,  # the server answers with its version: the doctor's server line says so
    re.compile(r"image:\s*['\"]?apache/iggy:0\.9\.").search,
    "image: apache/iggy:0.9.0",
)
PITFALLS = (IO_URING, NUMA, ADVERTISED, LATEST)
BROKEN_DESKTOP = re.compile(r"Docker Desktop 4\.42\b")


async def docker_findings(*, nothing_answers: bool, timeout: float,
                          compose_file: Path = COMPOSE_FILE) -> list[Finding]:
    """The Docker lines of the report. The engine, the container and its log are asked only
    when nothing answers; the pitfalls none of that explains follow as a checklist."""
    findings, explained = compose_findings(compose_file)
    if not nothing_answers:
        return findings
    engine, answers = await engine_finding(timeout)
    findings.append(engine)
    if not answers:
        return findings
    if BROKEN_DESKTOP.search(engine.text):
        explained.add(IO_URING)
        findings.append(Finding(FAIL, "Docker Desktop 4.42 broke io_uring",
                                "update to Docker Desktop 4.43 or newer"))
    container, log = await container_finding(compose_file, timeout)
    findings.append(container)
    for pitfall in PITFALLS:
        line = _matching_line(pitfall, log)
        if line and pitfall not in explained:
            explained.add(pitfall)
            findings.append(Finding(FAIL, f"Docker log: {line!r}", pitfall.fix))
    if not explained:
        findings += [Finding(WARN, f"If Iggy runs in Docker: {p.name}", p.fix) for p in PITFALLS]
    return findings


def compose_findings(compose_file: Path) -> tuple[list[Finding], set[Pitfall]]:
    """A ❌ for each pitfall the compose file does not prevent, or one ✅."""
    try:
        text = compose_file.read_text(encoding="utf-8")
    except OSError:
        return [], set()
    missing = [pitfall for pitfall in PITFALLS if not pitfall.prevented_by(text)]
    if not missing:
        return [Finding(OK, f"{compose_file.name}: apache/iggy:0.9.0 with the settings "
                            "0.9.0 needs in a container")], set()
    return [Finding(FAIL, f"{compose_file.name}: {p.name}", p.fix) for p in missing], set(missing)


async def engine_finding(timeout: float) -> tuple[Finding, bool]:
    """The Docker engine's line, and whether it answers."""
    if shutil.which("docker") is None:
        return Finding(WARN, "Docker: no docker command here", "install Docker Engine 24+ "
                       "with Compose v2 or Docker Desktop 4.43+, or use the course's sandbox "
                       "(make lab, without IGGY_AUTOSTART=0)"), False
    status, output = await run_docker(
        ["version", "--format", "{{.Server.Version}}|{{.Server.Platform.Name}}"], timeout
    )
    if status != 0 or "|" not in output:
        reason = output.strip().splitlines()[-1] if output.strip() else f"exit status {status}"
        return Finding(WARN, f"Docker: the engine does not answer ({reason})", "to use Docker, "
                       "start Docker Desktop or the docker service (sudo systemctl start "
                       "docker)"), False
    engine, _, desktop = output.strip().partition("|")
    name = f"{desktop} (engine {engine})" if desktop else f"Docker Engine {engine}"
    return Finding(OK, f"Docker: {name} answers"), True


async def container_finding(compose_file: Path, timeout: float) -> tuple[Finding, str]:
    """The course's container: why it does not serve, and the end of its log."""
    compose = ["compose", "--file", str(compose_file)]
    status, output = await run_docker([*compose, "ps", "--all", "--format", "json"], timeout)
    if status != 0:
        return Finding(WARN, f"Docker: docker compose ps failed ({output.strip()[:120]})"), ""
    container = next((c for c in _compose_ps(output) if c.get("Service") == SERVICE), None)
    if container is None:
        return Finding(FAIL, "Docker: the course's container does not exist",
                       "docker compose up -d --wait"), ""
    _, log = await run_docker([*compose, "logs", "--no-color", "--tail", str(LOG_LINES),
                               SERVICE], timeout)
    name, state = container.get("Name", SERVICE), container.get("State", "?")
    if state != "running":
        return Finding(FAIL, f"Docker: container {name} is {state} "
                             f"({container.get('Status', '')})",
                       "docker compose logs iggy tells why (known causes below)"), log
    return Finding(FAIL, f"Docker: container {name} runs, but its port does not answer",
                   "bind 0.0.0.0 inside the container and publish 8090 and 3000, as "
                   "docker-compose.yml does"), log


async def run_docker(args: list[str], timeout: float) -> tuple[int, str]:
    """Exit status and output (stdout then stderr) of ``docker ARGS``; 124 on timeout."""
    try:
        result = await asyncio.to_thread(
            subprocess.run, ["docker", *args], capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return 124, f"no answer within {timeout:g} s"
    except OSError as error:
        return 127, str(error)
    return result.returncode, result.stdout + result.stderr


def _compose_ps(output: str) -> list[dict]:
    """``docker compose ps --format json``: one object per line (Compose 2.21+) or a list."""
    text = output.strip()
    try:
        parsed = json.loads(text) if text.startswith("[") else [
            json.loads(line) for line in text.splitlines() if line.strip().startswith("{")
        ]
    except ValueError:
        return []
    return [item for item in parsed if isinstance(item, dict)]


def _matching_line(pitfall: Pitfall, log: str) -> str | None:
    if pitfall.log_pattern is None:
        return None
    lines = [line.strip() for line in log.splitlines() if pitfall.log_pattern.search(line)]
    return lines[-1][-160:] if lines else None
