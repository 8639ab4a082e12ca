"""Run the SDK maintainers' own test suite against the sandbox: ``python -m tests.conformance``.

The apache-iggy 0.9.0 release carries the Python SDK's integration tests
(``foreign/python/tests`` in its source distribution). They were written against the real
server, so they are the best outside check that the sandbox behaves like it. This script
fetches them at run time into ``.cache/conformance/`` (git-ignored; never copy them into
the repository), starts a sandbox on a temporary data directory, points the suite at it
through the environment variables its ``utils.py`` reads, runs pytest and prints a summary
with the failures grouped by reason.

With ``IGGY_TEST_SERVER=real`` (as ``make test-real`` sets it) it starts nothing and runs
the suite against the server already running at IGGY_TCP_ADDRESS / IGGY_HTTP_URL, which
must have the root user iggy/iggy. The one test that starts and restarts a server of its
own runs the binary named by IGGY_SERVER_BINARY (an ``iggy-server`` you built), and is
left out without it.

It exits non-zero when any test fails; the tests that cannot pass here (no TLS, QUIC or
WebSocket in the course's servers) are listed in ``CANNOT_PASS_HERE`` and left out of the
run. Extra arguments go to pytest, e.g. ``python -m tests.conformance -k test_topic``.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "conformance"
RELEASE = "apache-iggy==0.9.0"
SDIST_NAME = "apache_iggy-0.9.0.tar.gz"
SDIST_SHA256 = "0c8edc47cb54886ab3fbc7a83725dad949f98c1beb3460dfb9270a3a777b6c8e"
SUITE = "foreign/python/tests"
# The suite's pytest settings (asyncio mode, timeouts) live in the sdist's pyproject.toml.
EXTRACTED = (f"{SUITE}/", "pyproject.toml")
STAND_IN_FLAG = "--stand-in-for-iggy-server"
# Pythons without tarfile's "data" filter (older than 3.10.12 / 3.11.4) extract as before.
SAFE_EXTRACT = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}

NO_QUIC = "needs a QUIC transport; the course's servers speak TCP and HTTP only"
NO_WEBSOCKET = "needs a WebSocket transport; the course's servers speak TCP and HTTP only"

# The "expected to fail here" list: tests that cannot pass against the sandbox, and why.
# They are deselected rather than run to fail, since each would only wait out a connection
# timeout (up to 30 s). Any failure outside this list fails the run.
CONNECTION_STRING_CASE = "test_connectivity.py::TestConnectivity::test_valid_connection_string"
CANNOT_PASS_HERE = {
    "test_tls.py": "needs TLS: it starts a TLS-enabled real server in Docker (testcontainers)",
    "test_quic_config.py::TestAutoLoginAgainstServer": NO_QUIC,
    "test_websocket_config.py::TestAutoLoginAgainstServer": NO_WEBSOCKET,
    f"{CONNECTION_STRING_CASE}[iggy+quic://iggy:iggy@127.0.0.1:8080?reconnection_max_retries=0]":
        NO_QUIC,
    f"{CONNECTION_STRING_CASE}[iggy+ws://iggy:iggy@127.0.0.1:8092]": NO_WEBSOCKET,
    f"{CONNECTION_STRING_CASE}[connection_string6]": NO_WEBSOCKET,  # iggy+ws://... with options
}

# These cases hard-code the default ports; they only mean something if our server has them.
DEFAULT_TCP, DEFAULT_HTTP = "127.0.0.1:8090", "127.0.0.1:3000"
# Starts, kills and restarts an iggy-server of its own (test_producer.py's
# spawn_restartable_server); against a running real server it needs IGGY_SERVER_BINARY.
RESTART_CASE = ("test_producer.py::TestProducerValidationAndRetries::"
                "test_background_write_reconnects_after_server_restart")


# ---------------------------------------------------------------------------- fetching
def fetch_suite() -> Path:
    """The release's source tree (suite + pyproject.toml) under the cache, fetched once."""
    tree = CACHE / "apache-iggy-0.9.0"
    marker = tree / ".complete"
    if marker.exists():
        return tree
    print(f"conformance: fetching the {RELEASE} test suite into {tree.relative_to(ROOT)}/",
          flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / SDIST_NAME
        urllib.request.urlretrieve(sdist_url(scratch), archive)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != SDIST_SHA256:
            raise SystemExit(f"conformance: {SDIST_NAME} has sha256 {digest}, expected "
                             f"{SDIST_SHA256}; refusing to run an unknown suite")
        extract(archive, tree)
    marker.touch()
    return tree


def sdist_url(scratch: str) -> str:
    """Ask pip where the sdist lives. pip downloads it, then fails to build it (no Rust
    toolchain, and build isolation is off so that fails fast); its log names the link."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-vvv", "--no-deps", "--no-binary=:all:",
         "--no-build-isolation", "--disable-pip-version-check", "-d", scratch, RELEASE],
        capture_output=True, text=True, check=False)
    found = re.search(r"https://\S+?/" + re.escape(SDIST_NAME), result.stdout + result.stderr)
    if found is None:
        raise SystemExit(f"conformance: pip could not find the {RELEASE} source distribution "
                         "(is the package index reachable?)")
    return found.group(0)


def extract(archive: Path, tree: Path) -> None:
    with tarfile.open(archive) as sdist:
        for member in sdist.getmembers():
            _, _, inner = member.name.partition("/")
            if member.isfile() and inner.startswith(EXTRACTED):
                member.name = inner
                sdist.extract(member, tree, **SAFE_EXTRACT)


# ---------------------------------------------------------------------------- iggy-server
def install_stand_in(tree: Path, real_binary: str | None = None) -> None:
    """The suite's restart test runs ``target/debug/iggy-server`` from the source tree; give
    it a script that starts a sandbox the same way (IGGY_TCP_ADDRESS, IGGY_PATH), or that
    runs ``real_binary`` when the suite tests a real server."""
    binary = tree / "target" / "debug" / "iggy-server"
    binary.parent.mkdir(parents=True, exist_ok=True)
    if real_binary:
        binary.write_text(f'#!/bin/sh\nexec "{real_binary}" "$@"\n')
    else:
        binary.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" '
                          f'-m tests.conformance {STAND_IN_FLAG} "$@"\n')
    binary.chmod(0o755)


def stand_in_for_iggy_server() -> int:
    """Serve like ``iggy-server``: address and data path from its env variables, the bound
    address published in ``runtime/current_config.toml``; SIGTERM stops it."""
    from sandbox.launch import start_sandbox

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    data = Path(os.environ.get("IGGY_PATH", "local_data")).resolve()
    with start_sandbox(tcp=os.environ.get("IGGY_TCP_ADDRESS", DEFAULT_TCP),
                       data_dir=data / "sandbox", log_file=data / "server.log",
                       env=sandbox_env()) as sandbox:
        runtime = data / "runtime"
        runtime.mkdir(exist_ok=True)
        (runtime / "current_config.toml").write_text(
            f'[tcp]\naddress = "{sandbox.tcp_address}"\n')
        while True:
            signal.pause()


def sandbox_env() -> dict[str, str]:
    """The suite logs in as iggy/iggy, whatever the caller's environment says."""
    return {**os.environ, "IGGY_ROOT_USERNAME": "iggy", "IGGY_ROOT_PASSWORD": "iggy"}


# ---------------------------------------------------------------------------- running
def start_sandbox_for_suite(data_dir: str):
    """On the default ports if they are free (some cases hard-code them), else on any."""
    from sandbox.launch import SandboxStartError, start_sandbox

    log = CACHE / "sandbox.log"
    try:
        return start_sandbox(tcp=DEFAULT_TCP, http=DEFAULT_HTTP, data_dir=data_dir,
                             log_file=log, env=sandbox_env()), False
    except SandboxStartError:
        return start_sandbox(data_dir=data_dir, log_file=log, env=sandbox_env()), True


def run_pytest(tree: Path, tcp_address: str, http_url: str, not_run: dict[str, str],
               args: list[str]) -> int:
    host, tcp_port = tcp_address.rsplit(":", 1)
    env = {**os.environ, "IGGY_SERVER_HOST": host, "IGGY_SERVER_TCP_PORT": tcp_port,
           "IGGY_SERVER_HTTP_PORT": http_url.rstrip("/").rsplit(":", 1)[1]}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
               "--rootdir", str(tree), "-c", str(tree / "pyproject.toml"),
               "--junitxml", str(CACHE / "junit.xml"), SUITE]
    for target in not_run:
        flag = "--deselect" if "::" in target else "--ignore"
        command += [flag, f"{SUITE}/{target}"]
    return subprocess.run(command + args, cwd=tree, env=env, check=False).returncode


def count_tests(tree: Path, targets: list[str]) -> dict[str, int]:
    """How many tests each left-out target holds. A module that cannot even be imported
    here (test_tls.py needs testcontainers) is counted by its test functions."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-qq",
         "--rootdir", str(tree), "-c", str(tree / "pyproject.toml"),
         "--continue-on-collection-errors", *(f"{SUITE}/{t}" for t in targets)],
        cwd=tree, capture_output=True, text=True, check=False).stdout.splitlines()
    counts = {}
    for target in targets:
        prefix = f"{SUITE}/{target}"
        found = sum(line == prefix or line.startswith((f"{prefix}::", f"{prefix}["))
                    for line in listing)
        source = (tree / SUITE / target.split("::")[0]).read_text()
        counts[target] = found or len(re.findall(r"^\s*(?:async )?def test_", source, re.M))
    return counts


def outcomes(junit: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(outcome by test, failure reason by test)`` from pytest's JUnit XML report."""
    status: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        test = test_name(case.get("classname", ""), case.get("name", ""))
        status[test] = "passed"
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                status[test] = "skipped" if kind == "skipped" else "failed"
                text = (element.get("message") or element.text or kind).strip()
                reasons[test] = text.splitlines()[0][:160] if text else kind
    return status, reasons


def test_name(classname: str, name: str) -> str:
    """``foreign.python.tests.test_x.TestY`` + ``test_z`` -> ``test_x.py::TestY::test_z``."""
    parts = classname.split(".")
    module = next((i for i, part in enumerate(parts) if part.startswith("test_")), len(parts))
    file = parts[module] + ".py" if module < len(parts) else ".".join(parts)
    return "::".join([file, *parts[module + 1:], name])


def summarise(status: dict[str, str], reasons: dict[str, str], not_run: dict[str, str],
              not_run_counts: dict[str, int]) -> bool:
    """Print the counts and the failures grouped by reason; True when none failed."""
    counts = defaultdict(int)
    for outcome in status.values():
        counts[outcome] += 1
    print(f"\nconformance: {len(status)} ran: {counts['passed']} passed, {counts['failed']} "
          f"failed, {counts['skipped']} skipped; {sum(not_run_counts.values())} left out as "
          "expected to fail here:")
    for target, why in not_run.items():
        print(f"  {not_run_counts[target]:3d}  {target}\n       ({why})")
    groups: dict[str, list[str]] = defaultdict(list)
    for test, outcome in status.items():
        if outcome == "failed":
            groups[reasons.get(test, "?")].append(test)
    for reason, tests in sorted(groups.items()):
        print(f"\nFAILED ({len(tests)}): {reason}")
        for test in sorted(tests):
            print(f"    {test}")
    if groups and (CACHE / "sandbox.log").exists():
        print(f"\nconformance: the sandbox's log is {(CACHE / 'sandbox.log').relative_to(ROOT)}")
    return not groups


def without_default_ports(not_run: dict[str, str], why: str) -> dict[str, str]:
    """``not_run`` with every connection-string case left out, for ``why``."""
    kept = {target: reason for target, reason in not_run.items()
            if not target.startswith(CONNECTION_STRING_CASE)}
    return {**kept, CONNECTION_STRING_CASE: f"{why}; these cases hard-code {DEFAULT_TCP} "
            f"and {DEFAULT_HTTP}"}


def run_suite(tree: Path, args: list[str]) -> tuple[int, dict[str, str]]:
    """Start a sandbox, run the suite against it; ``(pytest exit code, tests left out)``."""
    not_run = dict(CANNOT_PASS_HERE)
    with tempfile.TemporaryDirectory(prefix="conformance-") as data_dir:
        sandbox, moved = start_sandbox_for_suite(data_dir)
        with sandbox:
            if moved:
                not_run = without_default_ports(
                    not_run, f"{DEFAULT_TCP} or {DEFAULT_HTTP} is taken by another process")
            print(f"conformance: sandbox at tcp={sandbox.tcp_address} http={sandbox.http_url}",
                  flush=True)
            code = run_pytest(tree, sandbox.tcp_address, sandbox.http_url, not_run, args)
            return code, not_run


def run_suite_on_real_server(tree: Path, args: list[str]) -> tuple[int, dict[str, str]]:
    """Run the suite against the server at IGGY_TCP_ADDRESS / IGGY_HTTP_URL."""
    import asyncio

    from coursekit.network import port_answers
    from coursekit.settings import get_settings

    settings = get_settings()
    if not asyncio.run(port_answers(settings.tcp_address)):
        raise SystemExit(f"conformance: IGGY_TEST_SERVER=real but nothing answers at "
                         f"{settings.tcp_address} (IGGY_TCP_ADDRESS)")
    not_run = dict(CANNOT_PASS_HERE)
    if (settings.tcp_address, settings.http_url) != (DEFAULT_TCP, f"http://{DEFAULT_HTTP}"):
        not_run = without_default_ports(not_run, "the server runs on other ports")
    if not os.environ.get("IGGY_SERVER_BINARY"):
        not_run[RESTART_CASE] = ("starts and restarts a server of its own: set "
                                 "IGGY_SERVER_BINARY to an iggy-server binary to run it")
    print(f"conformance: real server at tcp={settings.tcp_address} http={settings.http_url}",
          flush=True)
    return run_pytest(tree, settings.tcp_address, settings.http_url, not_run, args), not_run


def main(argv: list[str]) -> int:
    if argv[:1] == [STAND_IN_FLAG]:
        return stand_in_for_iggy_server()
    sys.path.insert(0, str(ROOT))
    from sandbox.launch import SandboxStartError

    try:
        tree = fetch_suite()
    except OSError as error:
        print(f"conformance: cannot fetch the {RELEASE} test suite: {error}", file=sys.stderr)
        return 2
    real = os.environ.get("IGGY_TEST_SERVER", "sandbox") == "real"
    install_stand_in(tree, os.environ.get("IGGY_SERVER_BINARY") if real else None)
    junit = CACHE / "junit.xml"
    junit.unlink(missing_ok=True)
    (CACHE / "sandbox.log").unlink(missing_ok=True)
    try:
        code, not_run = (run_suite_on_real_server if real else run_suite)(tree, argv)
    except SandboxStartError as error:
        print(f"conformance: {error}", file=sys.stderr)
        return 2
    if code not in (0, 1) and not (code < 0 and junit.exists()):
        print(f"conformance: pytest stopped with exit code {code} before finishing the suite")
        return code or 1
    if code < 0:  # the SDK's threads can abort the interpreter after the report is written
        print(f"conformance: pytest was ended by signal {-code} after writing its report")
    status, reasons = outcomes(junit)
    counts = count_tests(tree, list(not_run))
    return 0 if summarise(status, reasons, not_run, counts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
