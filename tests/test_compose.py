"""docker-compose.yml starts a real Iggy 0.9.0 that the course can reach, on any Docker host.

Each check is a setting without which 0.9.0 in Docker fails in a known way (see
docs/troubleshooting.md); there is no Docker here, so the file is checked, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from coursekit.settings import get_settings

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
COURSE_ENV = ("IGGY_TCP_ADDRESS", "IGGY_HTTP_URL", "IGGY_USERNAME", "IGGY_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def iggy(compose) -> dict:
    services = compose["services"]
    assert len(services) == 1, "one service: the Iggy server"
    return next(iter(services.values()))


@pytest.fixture(scope="module")
def env(iggy) -> dict[str, str]:
    """``environment:`` as a dict, whether written as a mapping or as KEY=VALUE items."""
    raw = iggy["environment"]
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


@pytest.fixture
def course_defaults(monkeypatch):
    """What the notebooks connect to when no environment variable is set."""
    for name in COURSE_ENV:
        monkeypatch.delenv(name, raising=False)
    return get_settings()


def published(iggy) -> dict[int, str]:
    """Container port → host address for the TCP ports ("[host_ip:]host:container")."""
    ports = {}
    for spec in iggy["ports"]:
        if str(spec).endswith("/udp"):
            continue
        *host_ip, host_port, container_port = str(spec).split(":")
        host_ip = host_ip[0] if host_ip else "0.0.0.0"  # Docker's default: every interface
        assert host_port == container_port, f"{spec}: the course expects the same port numbers"
        ports[int(container_port)] = host_ip
    return ports


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert match, f"unexpected duration {duration!r}"
    return float(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def test_image_is_pinned_to_0_9_0(iggy):
    assert iggy["image"] == "apache/iggy:0.9.0"


def test_publishes_the_ports_the_course_connects_to_on_loopback(iggy, course_defaults):
    tcp_port = int(course_defaults.tcp_address.rsplit(":", 1)[1])
    http_port = int(course_defaults.http_address.rsplit(":", 1)[1])
    ports = published(iggy)
    assert ports.get(tcp_port) == "127.0.0.1"
    assert ports.get(http_port) == "127.0.0.1"


def test_root_user_is_the_one_the_course_logs_in_with(env, course_defaults):
    assert env["IGGY_ROOT_USERNAME"] == course_defaults.username
    assert env["IGGY_ROOT_PASSWORD"] == course_defaults.password


def test_listeners_bind_all_interfaces_with_an_advertised_host(env):
    assert env["IGGY_TCP_ADDRESS"] == "0.0.0.0:8090"
    assert env["IGGY_HTTP_ADDRESS"] == "0.0.0.0:3000"
    advertised = env["IGGY_NODE_ADVERTISED_ADDRESS"]
    assert advertised and ":" not in advertised, "a host name only, no port"


def test_transports_left_on_are_reachable(env, iggy):
    """QUIC and WebSocket are either off or bound to 0.0.0.0 and published."""
    published_ports = [str(spec) for spec in iggy["ports"]]
    for name, port in (("QUIC", "8080/udp"), ("WEBSOCKET", "8092")):
        if env.get(f"IGGY_{name}_ENABLED", "true").lower() == "false":
            continue
        assert env.get(f"IGGY_{name}_ADDRESS", "").startswith("0.0.0.0:"), name
        assert any(spec.endswith(f":{port}") for spec in published_ports), name


def test_single_numa_hosts_do_not_crash(env):
    assert env["IGGY_SHARDING_CPU_ALLOCATION"] == "all"


def test_no_setting_names_that_0_9_0_renamed(env):
    """0.9.0 refuses to start on IGGY_SYSTEM_PATH and IGGY_SYSTEM_SHARDING_*."""
    legacy = [
        key for key in env if key == "IGGY_SYSTEM_PATH" or key.startswith("IGGY_SYSTEM_SHARDING_")
    ]
    assert not legacy


def test_io_uring_is_allowed(iggy):
    assert any(opt.replace("=", ":") == "seccomp:unconfined" for opt in iggy["security_opt"]), (
        "Docker 25+'s default seccomp profile blocks io_uring"
    )
    assert iggy["ulimits"]["memlock"] in ({"soft": -1, "hard": -1}, -1)
    assert "SYS_NICE" in iggy["cap_add"]


def test_healthcheck_pings_over_tcp_with_enough_time(iggy):
    check = iggy["healthcheck"]
    command = check["test"]
    assert command[0] == "CMD"
    assert command[1:] == ["iggy", "--tcp-server-address", "127.0.0.1:8090", "ping"]
    assert seconds(check["timeout"]) >= 3


def test_data_lives_in_a_named_volume(compose, iggy):
    mounts = [str(volume).split(":") for volume in iggy["volumes"]]
    named = [source for source, target, *_ in mounts if target == "/app/local_data"]
    assert len(named) == 1, "mount a volume at /app/local_data, the image's data directory"
    assert named[0] in (compose.get("volumes") or {}), "a named volume, declared at top level"
