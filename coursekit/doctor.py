"""The setup doctor: does everything the course needs answer, and if not, what fixes it.

``await helpers.doctor()`` in a notebook; ``make doctor`` (``python -m coursekit.doctor``) in
a terminal, where it helps most: when no notebook can connect. It prints one line per
check, ✅ / ❌ / ⚠️, each problem with its fix: the Python and SDK versions, whether TCP and
HTTP answer, which server it is and its version, whether the login works, and for Docker
users the known pitfalls of Iggy 0.9.0 in a container (only when they can matter). Every
probe has a deadline and every failure becomes a line: the doctor never hangs and never
shows a traceback. It starts nothing.
"""

from __future__ import annotations

import asyncio
import json
import platform
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from coursekit.network import is_loopback, port_answers
from coursekit.settings import Settings, get_settings

OK, FAIL, WARN = "✅", "❌", "⚠️"
PYTHONS = ((3, 10), (3, 13))  # the CPython versions apache-iggy 0.9.0 has wheels for
SDK_VERSION = "0.9.0"
PROBE_TIMEOUT = 3.0  # seconds for each answer the doctor waits for
CREDENTIALS_FIX = (
    "set IGGY_USERNAME and IGGY_PASSWORD to the server's root user (the sandbox and "
    "docker-compose.yml use iggy/iggy; Iggy started without IGGY_ROOT_PASSWORD printed a "
    "random one once in its log: docker compose logs iggy)"
)
HTTP_FIX = (
    "set IGGY_HTTP_URL to the server's HTTP address (http://127.0.0.1:3000 for the sandbox "
    "and docker-compose.yml)"
)


@dataclass(frozen=True)
class Finding:
    """One line of the report: a mark, what was found and, for a problem, its fix."""

    mark: str
    text: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.mark} {self.text}" + (f". Fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class TcpProbe:
    """What the binary protocol said: ``login`` is "ok", "refused", "silent" (the port
    accepts but no 0.9 answer comes), "error" or "" (not tried)."""

    answers: bool
    login: str = ""
    version: str | None = None
    error: str = ""


@dataclass(frozen=True)
class HttpProbe:
    """What the REST API said: ``ping`` is "pong", "other" (an answer, not Iggy's), "bad
    url" or "" (no answer); ``login`` as for TCP."""

    ping: str
    detail: str = ""  # the status or the reason, for the report
    login: str = ""
    version: str | None = None


async def doctor(*, timeout: float = PROBE_TIMEOUT) -> bool:
    """Check the setup and print one line per check; True when nothing failed."""
    try:
        findings = await examine(timeout)
    except Exception as error:  # a bug here must still end in a line, not a traceback
        findings = [Finding(FAIL, f"the doctor could not finish: {type(error).__name__}: "
                                  f"{error}", "please report this line")]
    for finding in findings:
        print(finding)
    failed = sum(finding.mark == FAIL for finding in findings)
    if failed:
        print(f"{failed} problem(s): apply the fix on each ❌ line, then run the doctor again.")
    else:
        print("Everything the course needs answers.")
    return not failed


async def examine(timeout: float = PROBE_TIMEOUT) -> list[Finding]:
    """Every check's finding, in the order a learner fixes them."""
    findings = [python_finding(), sdk_finding()]
    try:
        settings = get_settings()
    except ValueError as error:  # a malformed COURSE_LEARNER
        return [*findings, Finding(FAIL, str(error))]
    tcp, http = await asyncio.gather(
        probe_tcp(settings, timeout), asyncio.to_thread(probe_http, settings, timeout)
    )
    findings += [tcp_finding(settings, tcp), http_finding(settings, tcp, http)]
    findings += server_findings(settings, tcp, http)
    version = tcp.version or http.version
    wrong_server = tcp.login == "silent" or (version is not None and not is_09(version))
    docker_in_use = shutil.which("docker") is not None or not settings.autostart
    if wrong_server or (not tcp.answers and docker_in_use):
        from coursekit.docker_check import docker_findings  # it builds on this module

        findings += await docker_findings(nothing_answers=not tcp.answers, timeout=timeout)
    return findings


def python_finding() -> Finding:
    running = sys.version_info[:2]
    name = f"Python {platform.python_version()} ({platform.python_implementation()})"
    low, high = PYTHONS
    if platform.python_implementation() == "CPython" and low <= running <= high:
        return Finding(OK, f"{name}, within the 3.10 to 3.13 that apache-iggy 0.9.0 supports")
    return Finding(
        FAIL,
        f"{name}: apache-iggy 0.9.0 has wheels for CPython 3.10 to 3.13 only",
        "make clean, then make PYTHON=python3.12 lab (any CPython 3.10 to 3.13)",
    )


def sdk_finding() -> Finding:
    try:
        installed = version("apache-iggy")
    except PackageNotFoundError:
        return Finding(
            FAIL,
            f"apache-iggy is not installed for {sys.executable}",
            "make lab installs it into .venv; elsewhere: pip install apache-iggy==0.9.0",
        )
    if installed != SDK_VERSION:
        return Finding(
            FAIL,
            f"apache-iggy {installed} is installed, the course needs {SDK_VERSION}",
            f"pip install apache-iggy=={SDK_VERSION} (or: make clean, then make lab)",
        )
    return Finding(OK, f"apache-iggy {installed}, the SDK the course is written for")


async def probe_tcp(settings: Settings, timeout: float) -> TcpProbe:
    """Connect, log in and ask GetStats with the SDK, each step within ``timeout``."""
    try:
        if not await port_answers(settings.tcp_address, timeout):
            return TcpProbe(answers=False)
    except ValueError as error:
        return TcpProbe(answers=False, error=str(error))
    try:
        from apache_iggy import IggyClient, TcpConfig, TcpReconnectionConfig
    except ImportError:
        return TcpProbe(answers=True)  # sdk_finding says what to do
    client = IggyClient(TcpConfig(server_address=settings.tcp_address,
                                  reconnection=TcpReconnectionConfig(max_retries=0)))
    try:
        await asyncio.wait_for(client.connect(), timeout)
        await asyncio.wait_for(client.login_user(settings.username, settings.password), timeout)
        stats = await asyncio.wait_for(client.get_stats(), timeout)
    except TimeoutError:
        return TcpProbe(answers=True, login="silent")
    except RuntimeError as error:
        refused = "credentials" in str(error).lower()
        return TcpProbe(answers=True, login="refused" if refused else "error", error=str(error))
    return TcpProbe(answers=True, login="ok", version=stats.iggy_server_version)


def probe_http(settings: Settings, timeout: float) -> HttpProbe:
    """GET /ping, then log in and read /stats: blocking, so run it in a thread."""
    base = settings.http_url
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpProbe(ping="bad url", detail=f"IGGY_HTTP_URL={base!r} is not an http:// URL")
    try:
        status, body = _http("GET", f"{base}/ping", timeout=timeout)
    except (OSError, ValueError) as error:
        return HttpProbe(ping="", detail=str(getattr(error, "reason", error)))
    if status != 200 or body.strip() != "pong":
        return HttpProbe(ping="other", detail=f"GET /ping answered HTTP {status}")
    credentials = {"username": settings.username, "password": settings.password}
    try:
        status, body = _http("POST", f"{base}/users/login", credentials, timeout=timeout)
        if status != 200:
            return HttpProbe(ping="pong", login="refused" if status in (400, 401, 403) else "error",
                             detail=f"POST /users/login answered HTTP {status}")
        token = json.loads(body)["access_token"]["token"]
        status, body = _http("GET", f"{base}/stats", token=token, timeout=timeout)
        found = json.loads(body).get("iggy_server_version") if status == 200 else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        return HttpProbe(ping="pong", login="error", detail=str(error))
    return HttpProbe(ping="pong", login="ok", version=found)


def _http(method: str, url: str, body: object = None, *, token: str = "",
          timeout: float) -> tuple[int, str]:
    """Status and text of one request; error statuses are answers too."""
    request = urllib.request.Request(
        url, data=None if body is None else json.dumps(body).encode(), method=method
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def tcp_finding(settings: Settings, tcp: TcpProbe) -> Finding:
    address = settings.tcp_address
    if tcp.error and not tcp.answers:
        return Finding(FAIL, f"IGGY_TCP_ADDRESS={address!r}: {tcp.error}",
                       "export IGGY_TCP_ADDRESS=127.0.0.1:8090")
    if tcp.answers:
        return Finding(OK, f"TCP {address} (IGGY_TCP_ADDRESS) answers")
    if not settings.autostart:
        fix = ("start a server (docker compose up -d --wait), or let the course start its "
               "sandbox: unset IGGY_AUTOSTART")
    elif is_loopback(address):
        fix = ("make lab starts the course's sandbox (so does any notebook's Setup cell); "
               "or docker compose up -d --wait for Apache Iggy")
    else:
        fix = "start the server there, or set IGGY_TCP_ADDRESS to where yours listens"
    return Finding(FAIL, f"TCP {address}: nothing answers", fix)


def http_finding(settings: Settings, tcp: TcpProbe, http: HttpProbe) -> Finding:
    url = settings.http_url
    if http.ping == "bad url":
        return Finding(FAIL, http.detail, "export IGGY_HTTP_URL=http://127.0.0.1:3000")
    if http.ping:
        if http.ping == "pong":
            return Finding(OK, f"HTTP {url} (IGGY_HTTP_URL) answers: GET /ping -> pong")
        return Finding(FAIL, f"HTTP {url} answers, but not as Iggy ({http.detail})", HTTP_FIX)
    if not tcp.answers:  # the same server is missing: one fix, on the TCP line
        return Finding(FAIL, f"HTTP {url}: nothing answers either")
    return Finding(FAIL, f"HTTP {url}: no answer ({http.detail})", HTTP_FIX)


def server_findings(settings: Settings, tcp: TcpProbe, http: HttpProbe) -> list[Finding]:
    """Which server answers, its version, and whether the course's user can log in."""
    if not tcp.answers:
        return []
    found = tcp.version or http.version
    if tcp.login == "silent" and found is None:
        return [Finding(
            FAIL,
            f"Server at {settings.tcp_address} accepts connections but gave no Iggy 0.9 "
            "answer in time",
            "run Apache Iggy 0.9.0 (apache/iggy:latest is 0.10, whose protocol SDK 0.9.0 "
            "cannot speak), or point IGGY_TCP_ADDRESS at it",
        )]
    findings = []
    if found is None:
        findings.append(Finding(WARN, "Server: an Iggy server answers; its version shows "
                                      "once the login works"))
    elif not is_09(found):  # then a failed login says nothing about the password
        return [Finding(
            FAIL,
            f"Server: Apache Iggy {found}, but SDK {SDK_VERSION} speaks the 0.9 protocol only",
            "run apache/iggy:0.9.0 (docker-compose.yml pins it; apache/iggy:latest is 0.10)",
        )]
    else:
        name = f"the Iggy sandbox {found}" if "sandbox" in found else f"Apache Iggy {found}"
        findings.append(Finding(OK, f"Server: {name}, which SDK {SDK_VERSION} speaks to"))
    login = login_finding(settings, tcp, http)
    return findings + ([login] if login else [])


def login_finding(settings: Settings, tcp: TcpProbe, http: HttpProbe) -> Finding | None:
    """Whether the course's user gets in; None when no login could be tried."""
    user = settings.username
    if not (tcp.login or http.login):
        return None
    if tcp.login == "refused" or (tcp.login != "ok" and http.login == "refused"):
        return Finding(FAIL, f"Login as {user!r}: the server refused that password",
                       CREDENTIALS_FIX)
    if tcp.login == "ok" and http.login == "refused":
        return Finding(FAIL, f"Login as {user!r} works over TCP, the HTTP API refuses it",
                       "IGGY_HTTP_URL points at another server than IGGY_TCP_ADDRESS: "
                       + HTTP_FIX)
    if tcp.login == "ok":
        over = "TCP and HTTP" if http.login == "ok" else "TCP"
        return Finding(OK, f"Login as {user!r} works over {over}")
    return Finding(FAIL, f"Login as {user!r} failed: {tcp.error or 'no answer in time'}",
                   "is the server an Iggy 0.9? See docs/troubleshooting.md")


def is_09(server_version: str) -> bool:
    """``"0.9.0"``, ``"0.9.0-sandbox"``, ``"0.9.1-edge.2"``: the protocol SDK 0.9.0 speaks."""
    return server_version.startswith("0.9.")


def main() -> int:
    """``make doctor``: the report, and exit status 1 when something failed."""
    return 0 if asyncio.run(doctor()) else 1


if __name__ == "__main__":
    from coursekit.scripts import exit_now

    exit_now(main())
