"""The Register handshake: client version check, password or token login, evictions.

Failed logins from one address are slowed down: after a few in a row, each further failure
is answered only after a growing delay, so guessing passwords over the wire is slow while a
typo costs a learner nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import time

from sandbox import IGGY_VERSION
from sandbox.errors import IggyError
from sandbox.state.model import Session, User
from sandbox.state.system import System
from sandbox.wire import framing
from sandbox.wire.codec import Reader, Writer

PROTOCOL_VERSION = 0x2C00  # 0.11.0 packed as major<<20 | minor<<10 | patch
FREE_FAILURES = 3
MAX_DELAY = 5.0
FAILURE_MEMORY = 60.0


class LoginThrottle:
    """Counts recent failed logins per remote host and says how long to wait."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, float]] = {}

    def delay_after_failure(self, host: str) -> float:
        count, last = self.failures.get(host, (0, 0.0))
        now = time.monotonic()
        count = count + 1 if now - last < FAILURE_MEMORY else 1
        self.failures[host] = (count, now)
        if count <= FREE_FAILURES:
            return 0.0
        return min(0.25 * 2 ** (count - FREE_FAILURES - 1), MAX_DELAY)

    def succeeded(self, host: str) -> None:
        self.failures.pop(host, None)


def _credentials(body: bytes) -> tuple[str, str] | None:
    try:
        r = Reader(body)
        username = r.name()
        password = r.small_bytes().decode("utf-8")
        r.raw(r.u32())
        r.end()
        return username, password
    except (IggyError, UnicodeDecodeError):
        return None


def _token(body: bytes) -> str | None:
    try:
        r = Reader(body)
        token = r.small_bytes().decode("utf-8")
        r.raw(r.u32())
        r.end()
        return token or None
    except (IggyError, UnicodeDecodeError):
        return None


async def register(system: System, throttle: LoginThrottle, session: Session,
                   header: framing.RequestHeader, body: bytes) -> bytes:
    """Answer a Register request with a session (result-framed) or an eviction frame."""
    try:
        r = Reader(body)
        version = r.u32()
        r.name()
        r.name()
        rest = bytes(r.rest())
    except IggyError:
        return framing.eviction(header.client, framing.EVICT_MALFORMED_LOGIN)
    if version >> 20 != PROTOCOL_VERSION >> 20 or (version >> 10) & 0x3FF != 11:
        return framing.eviction(header.client, framing.EVICT_INCOMPATIBLE_PROTOCOL,
                                (PROTOCOL_VERSION, PROTOCOL_VERSION))
    user, reason = await _authenticate(system, rest)
    host = session.address.rpartition(":")[0]
    if user is None:
        delay = throttle.delay_after_failure(host)
        if delay:
            await asyncio.sleep(delay)
        return framing.eviction(header.client, reason)
    throttle.succeeded(host)
    session.user_id = user.id
    session.number = secrets.randbits(63) + 1
    payload = (Writer().u32(0).u32(user.id).raw(struct.pack("<Q", session.number))
               .u32(PROTOCOL_VERSION).name(IGGY_VERSION).bytes())
    return framing.reply_header(header, len(payload)) + payload


async def _authenticate(system: System, rest: bytes) -> tuple[User | None, int]:
    credentials = _credentials(rest)
    if credentials is not None:
        try:
            return await system.authenticate(*credentials), 0
        except IggyError:
            pass
    token = _token(rest)
    if token is not None:
        try:
            return system.authenticate_token(token), 0
        except IggyError:
            return None, framing.EVICT_INVALID_TOKEN
    if credentials is None:
        return None, framing.EVICT_MALFORMED_LOGIN
    return None, framing.EVICT_INVALID_CREDENTIALS

