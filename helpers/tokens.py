"""Personal access tokens, which the 0.9.0 Python SDK has no typed calls for.

Upstream issue #4167: ``IggyClient`` can log in *with* a token (``TcpConfig(auto_login=
AutoLogin.personal_access_token(token))``) but cannot create, list or delete one. The binary
commands GetPersonalAccessTokens (41), CreatePersonalAccessToken (42) and
DeletePersonalAccessToken (43) can, through ``send_binary_request``, on the real server and
the sandbox alike. A token always belongs to the user who is logged in on ``client``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import timedelta

from apache_iggy import IggyClient

from helpers import wire

GET_PERSONAL_ACCESS_TOKENS = 41  # command codes
CREATE_PERSONAL_ACCESS_TOKEN = 42
DELETE_PERSONAL_ACCESS_TOKEN = 43
NEVER_EXPIRE = 2**64 - 1  # the expiry that means "never" on the wire
_NAME_LENGTH = range(3, 31)  # bytes, as the server checks


@dataclass(frozen=True)
class TokenInfo:
    """What the server tells about a token: its name and expiry, never the token itself."""

    name: str
    expires_at: int | None  # microseconds since 1970, like message timestamps; None: never


async def create_personal_access_token(
    client: IggyClient, name: str, expiry: timedelta | None = None
) -> str:
    """Create a token for the logged-in user and return it: the only time it is shown.

    ``expiry`` is how long it stays valid (None: forever); the server keeps only a hash.
    """
    body = _name(name) + struct.pack("<Q", _micros(expiry))
    reply = await wire.send(client, CREATE_PERSONAL_ACCESS_TOKEN, body, f"creating token {name!r}")
    return reply[1 : 1 + reply[0]].decode()


async def personal_access_tokens(client: IggyClient) -> list[TokenInfo]:
    """The logged-in user's tokens: names and expiry times."""
    reply = await wire.send(client, GET_PERSONAL_ACCESS_TOKENS, b"", "listing tokens")
    tokens, position = [], 0
    while position < len(reply):
        length = reply[position]
        name = reply[position + 1 : position + 1 + length].decode()
        (expiry_at,) = struct.unpack_from("<Q", reply, position + 1 + length)
        position += 1 + length + 8
        tokens.append(TokenInfo(name, expiry_at or None))
    return tokens


async def delete_personal_access_token(client: IggyClient, name: str) -> None:
    """Delete one of the logged-in user's tokens: logging in with it fails from now on."""
    await wire.send(client, DELETE_PERSONAL_ACCESS_TOKEN, _name(name), f"deleting token {name!r}")


def _name(name: str) -> bytes:
    if len(name.encode()) not in _NAME_LENGTH:
        raise ValueError(f"a token name must be 3 to 30 bytes, got {name!r}")
    return wire.name(name)


def _micros(expiry: timedelta | None) -> int:
    if expiry is None:
        return NEVER_EXPIRE
    micros = int(expiry.total_seconds() * 1_000_000)
    if micros <= 0:
        raise ValueError(f"expiry must be positive, got {expiry}")
    return micros
