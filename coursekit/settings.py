"""Where the course finds its server: one frozen snapshot of the environment.

Helpers, client scripts, tests and the Makefile all read the same variables, so they are
parsed in one place. Call ``get_settings()`` each time you need them (cheap): tests and
notebooks change the environment at run time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent

_FALSE_WORDS = {"", "0", "false", "no", "off"}

# A learner name goes in front of every name the course creates ("ana-nb03-shop"): letters,
# digits and "_" only, so the "-" after it always ends it, and never a course prefix itself.
LEARNER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")  # 3+: it is also a username
RESERVED_LEARNER_NAME = re.compile(r"(nb\d\d|demo|sample)", re.IGNORECASE)

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """The course's connection settings, read from environment variables."""

    tcp_address: str  # IGGY_TCP_ADDRESS, "host:port" of the binary protocol
    http_url: str  # IGGY_HTTP_URL, base URL of the REST API
    username: str  # IGGY_USERNAME
    password: str  # IGGY_PASSWORD
    autostart: bool  # IGGY_AUTOSTART: start the local sandbox when nothing answers
    small: bool  # COURSE_SMALL=1: notebooks use small numbers (tests, CI, Binder)
    data_dir: Path  # COURSE_DATA_DIR: where an autostarted sandbox keeps its data
    learner: str  # COURSE_LEARNER: goes in front of every name the course creates; "" = none

    @property
    def http_address(self) -> str:
        """``host:port`` of the REST API, the form ``start_sandbox(http=...)`` takes."""
        parts = urlsplit(self.http_url)
        return f"{parts.hostname}:{parts.port or 80}"


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in _FALSE_WORDS


def get_settings() -> Settings:
    """Read the settings from the environment now, applying the course defaults."""
    env = os.environ
    return Settings(
        tcp_address=env.get("IGGY_TCP_ADDRESS") or "127.0.0.1:8090",
        http_url=(env.get("IGGY_HTTP_URL") or "http://127.0.0.1:3000").rstrip("/"),
        username=env.get("IGGY_USERNAME") or "iggy",
        password=env.get("IGGY_PASSWORD") or "iggy",
        autostart=_flag(env.get("IGGY_AUTOSTART"), default=True),
        small=_flag(env.get("COURSE_SMALL"), default=False),
        data_dir=Path(env.get("COURSE_DATA_DIR") or REPO_ROOT / ".sandbox-data"),
        learner=check_learner(env.get("COURSE_LEARNER", "")),
    )


def check_learner(value: str) -> str:
    """COURSE_LEARNER checked, so a typo fails at once instead of naming streams oddly."""
    name = value.strip()
    if name and (not LEARNER_NAME.fullmatch(name) or RESERVED_LEARNER_NAME.fullmatch(name)):
        raise ValueError(
            f"COURSE_LEARNER={value!r} cannot name a learner: use 3 to 32 letters, digits or "
            "'_', starting with a letter (for example COURSE_LEARNER=ana), and not a course "
            "prefix such as nb03 or demo."
        )
    return name


def size(small: T, full: T) -> T:
    """Pick a number for the current mode: ``small`` when COURSE_SMALL=1, else ``full``.

    Notebooks write ``n = size(200, 100_000)`` so tests and Binder run in seconds while a
    learner on a laptop sees realistic volumes.
    """
    return small if get_settings().small else full
