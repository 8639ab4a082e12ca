"""Shared fixtures: one Iggy server for the whole test session, clients and unique names.

By default the session starts a sandbox on free ports with its data in a temporary
directory. With ``IGGY_TEST_SERVER=real`` it uses the server already running at
IGGY_TCP_ADDRESS / IGGY_HTTP_URL (e.g. ``docker compose up -d``) instead, and only tests
that talk to that server run: a test runs when it asks for ``iggy_server`` (or a fixture
built on it, such as ``client`` or ``unique``) and for no sandbox of its own. Skipped, and
counted apart in the summary, are tests that control a sandbox process (``sandbox_only``,
``fresh_sandbox``, or marked ``sandbox_process``) and tests that never touch the session's
server (they start a sandbox of their own, or test code that needs no server). A test that
is not skipped yet starts a sandbox fails, so the count cannot lie.

While the session runs, IGGY_TCP_ADDRESS, IGGY_HTTP_URL, IGGY_AUTOSTART=0 and COURSE_SMALL=1
are set in ``os.environ``, so helpers, client scripts and notebooks started by tests all
find the same server.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from apache_iggy import AutoLogin, IggyClient, TcpConfig, TcpReconnectionConfig

from coursekit.network import split_address
from coursekit.scripts import exit_now
from coursekit.settings import get_settings
from helpers.connection import connect
from helpers.resources import reset
from sandbox.launch import SandboxProcess, SandboxStartError, start_sandbox

ROOT_CREDENTIALS = {"IGGY_ROOT_USERNAME": "iggy", "IGGY_ROOT_PASSWORD": "iggy"}
REAL = os.environ.get("IGGY_TEST_SERVER", "sandbox") == "real"
SANDBOX_PROCESS_FIXTURES = frozenset({"sandbox_only", "fresh_sandbox"})
NEEDS_SANDBOX = "controls a sandbox process (restarts, crashes or inspects it)"
NOT_THE_SERVER = ("does not talk to the server under test (it starts a sandbox of its own, or "
                  "needs no server)")


@dataclass(frozen=True)
class IggyTestServer:
    """The server the session's tests talk to."""

    tcp_address: str  # "127.0.0.1:PORT"
    http_url: str  # "http://127.0.0.1:PORT"
    kind: str  # "sandbox" or "real"
    process: SandboxProcess | None  # None for the real server: no process control


@pytest.fixture(scope="session")
def iggy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IggyTestServer]:
    """The session's server, with the course's environment variables pointing at it."""
    with pytest.MonkeyPatch.context() as env:
        if REAL:
            server = _real_server()
        else:
            env.setenv("IGGY_USERNAME", "iggy")
            env.setenv("IGGY_PASSWORD", "iggy")
            server = _sandbox_server(start_private_sandbox(tmp_path_factory.mktemp("sandbox")))
        env.setenv("IGGY_TCP_ADDRESS", server.tcp_address)
        env.setenv("IGGY_HTTP_URL", server.http_url)
        env.setenv("IGGY_AUTOSTART", "0")
        env.setenv("COURSE_SMALL", "1")
        try:
            yield server
        finally:
            if server.process is not None:
                server.process.stop()


@pytest.fixture
def sandbox_only(iggy_server: IggyTestServer) -> IggyTestServer:
    """The session's server when it is a sandbox this session controls; skips otherwise."""
    if iggy_server.process is None:
        pytest.skip("needs the sandbox process (IGGY_TEST_SERVER=real runs without one)")
    return iggy_server


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A sandbox of this test's own (own ports and data dir), for tests that restart,
    crash or wipe a server. Stopped after the test. Connect with
    ``connect(fresh_sandbox.tcp_address)``."""
    process = start_private_sandbox(tmp_path / "sandbox")
    try:
        yield process
    finally:
        process.stop()


@pytest_asyncio.fixture
async def client(iggy_server: IggyTestServer) -> IggyClient:
    """A logged-in client of the session's server (built by ``helpers.connect``)."""
    return await connect(announce=False)


@pytest_asyncio.fixture
async def unique(iggy_server: IggyTestServer) -> AsyncIterator[Callable[[str], str]]:
    """``unique("nb01")`` → "nb01-t3f9a0c2b1d": a fresh name per call. Streams whose
    names start with a name made here are deleted from the session's server afterwards."""
    made: list[str] = []

    def make(prefix: str = "test") -> str:
        name = f"{prefix}-t{uuid.uuid4().hex[:10]}"
        made.append(name)
        return name

    yield make
    if made:
        cleaner = await connect(announce=False)
        for name in made:
            await reset(cleaner, name)


@pytest.fixture
def new_client(iggy_server: IggyTestServer) -> Callable[[], Awaitable[IggyClient]]:
    """``await new_client()`` → a logged-in client with its own connection (its own group
    membership). A short heartbeat makes the SDK re-sync its partitions quickly."""

    async def make() -> IggyClient:
        settings = get_settings()
        client = IggyClient(TcpConfig(
            server_address=iggy_server.tcp_address,
            auto_login=AutoLogin.username_password(settings.username, settings.password),
            heartbeat_interval=timedelta(milliseconds=200),
            reconnection=TcpReconnectionConfig(enabled=False),
        ))
        await client.connect()
        return client

    return make


@pytest.fixture
def free_address() -> Callable[[], str]:
    """``free_address()`` → "127.0.0.1:PORT" with a port that was free a moment ago."""

    def make() -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return f"127.0.0.1:{probe.getsockname()[1]}"

    return make


@pytest.fixture
def closed_address(free_address: Callable[[], str]) -> str:
    """A loopback "host:port" where nothing listens."""
    return free_address()


def start_private_sandbox(data_dir: Path) -> SandboxProcess:
    """Start a sandbox on free ports with iggy/iggy as root, logging to data_dir.log."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return start_sandbox(
            data_dir=data_dir,
            log_file=data_dir.with_suffix(".log"),
            env={**os.environ, **ROOT_CREDENTIALS},
            # Retention runs every second instead of every minute, so notebook 07 shows
            # expired and over-size segments being deleted within seconds.
            extra_args=("--cleaner-interval", "1"),
        )
    except SandboxStartError as error:
        pytest.fail(f"could not start the sandbox: {error}", pytrace=False)


def _sandbox_server(process: SandboxProcess) -> IggyTestServer:
    return IggyTestServer(process.tcp_address, process.http_url, "sandbox", process)


def _real_server() -> IggyTestServer:
    address = os.environ.get("IGGY_TCP_ADDRESS", "127.0.0.1:8090")
    http_url = os.environ.get("IGGY_HTTP_URL", "http://127.0.0.1:3000")
    try:
        socket.create_connection(split_address(address), timeout=2).close()
    except OSError as error:
        pytest.fail(
            f"IGGY_TEST_SERVER=real but nothing answers at {address} ({error}). "
            "Start it with `docker compose up -d` or set IGGY_TCP_ADDRESS.",
            pytrace=False,
        )
    return IggyTestServer(address, http_url, "real", None)


# ---------------------------------------------------------------- IGGY_TEST_SERVER=real
_SKIPPED = pytest.StashKey[dict[str, int]]()


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what they deselect
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a real server, skip every test that does not talk to it (see the top)."""
    if not REAL:
        return
    skipped = config.stash.setdefault(_SKIPPED, {NEEDS_SANDBOX: 0, NOT_THE_SERVER: 0})
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SANDBOX_PROCESS_FIXTURES or item.get_closest_marker("sandbox_process"):
            reason = NEEDS_SANDBOX
        elif "iggy_server" not in fixtures:
            reason = NOT_THE_SERVER
        else:
            continue
        item.add_marker(pytest.mark.skip(reason=reason))
        skipped[reason] += 1


@pytest.fixture(autouse=True)
def _no_sandbox_of_its_own(request: pytest.FixtureRequest,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a real server, a test that runs must not start a sandbox: it would then be
    testing that sandbox and counting as a test of the real server."""
    if not REAL:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail(f"{request.node.nodeid} starts a sandbox of its own but ran against the "
                    "real server: mark it @pytest.mark.sandbox_process", pytrace=False)

    for module in (request.module, sys.modules[__name__]):
        for name, value in list(vars(module).items()):
            if value is start_sandbox:
                monkeypatch.setattr(module, name, refuse)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.config.stash.get(_SKIPPED, None)
    if skipped is None:
        return
    stats = terminalreporter.stats
    terminalreporter.write_line(
        f"against the real server at {os.environ.get('IGGY_TCP_ADDRESS', '127.0.0.1:8090')}: "
        f"{len(stats.get('passed', []))} passed, {len(stats.get('failed', []))} failed; "
        f"not run there: {skipped[NEEDS_SANDBOX]} that control a sandbox process, "
        f"{skipped[NOT_THE_SERVER]} that do not talk to the server under test (they start a "
        "sandbox of their own, or need no server)")


_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without the interpreter's teardown once the run is reported.

    The SDK's Tokio threads can abort that teardown with SIGABRT after every test passed
    (see helpers/scripts.py), which would turn a green run red.
    """
    if _EXIT_STATUS in config.stash:
        exit_now(config.stash[_EXIT_STATUS])
