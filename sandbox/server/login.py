"""The Register handshake: client version check, password or token login, evictions.

A failed login is answered at once, however many came before it, as Iggy 0.9 does: neither
server slows down password guessing, so keep a server that has users worth protecting
behind a firewall, not on an open port.
"""

from __future__ import annotations

import secrets
import struct

from sandbox import IGGY_VERSION
from sandbox.errors import Code, IggyError
from sandbox.state.model import Session, User
from sandbox.state.system import System
from sandbox.wire import framing
from sandbox.wire.codec import Reader, Writer

PROTOCOL_VERSION = 0x2C00  # 0.11.0 packed as major<<20 | minor<<10 | patch
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


async def register(system: System, session: Session, header: framing.RequestHeader,
                   body: bytes) -> bytes:
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
    if user is None:
        return framing.eviction(header.client, reason)
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
        except IggyError as error:
            inactive = error.code == Code.USER_INACTIVE
            return None, framing.EVICT_USER_INACTIVE if inactive else framing.EVICT_INVALID_TOKEN
    if credentials is None:
        return None, framing.EVICT_MALFORMED_LOGIN
    return None, framing.EVICT_INVALID_CREDENTIALS

