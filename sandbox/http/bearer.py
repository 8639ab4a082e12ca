"""Bearer tokens for the REST API: random, opaque, held only in memory.

A login hands out a token that names its user for an hour, as Iggy's JWTs do (the SDK only
echoes it back, so it need not be a JWT). As on Iggy, the token is the credential: a
refresh hands out another without ending the first, a logout ends nothing the token can
still do, and only expiry or a restart (every token dies with the process) stops it. A
personal access token is accepted as a bearer token too.

HTTP callers are not connected clients: they are absent from ``/clients`` and from the
stats' client count, so each token carries a session of its own that the system does not
list.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sandbox.errors import Code, IggyError
from sandbox.state.model import Session, User
from sandbox.state.system import TRANSPORT_HTTP, System

TOKEN_LIFETIME = 3600.0  # seconds, Iggy's default access token expiry


@dataclass(slots=True)
class Grant:
    session: Session  # not in ``System.sessions``: HTTP callers are not listed clients
    expires_at: float  # unix seconds


class AccessTokens:
    """Token -> its user's unlisted session, with expiry."""

    def __init__(self, system: System, lifetime: float = TOKEN_LIFETIME):
        self.system = system
        self.lifetime = lifetime
        self.grants: dict[str, Grant] = {}

    def issue(self, user: User, address: str) -> tuple[str, int]:
        """A new token for ``user``; returns (token, expiry in unix seconds)."""
        self._forget_expired()
        session = Session(0, address, TRANSPORT_HTTP, user.id)
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + self.lifetime
        self.grants[token] = Grant(session, expires_at)
        return token, int(expires_at)

    def session_for(self, token: str) -> Session:
        """The session a live access token or personal access token names;
        Unauthenticated for anything else."""
        grant = self.grants.get(token)
        if grant is not None and grant.expires_at > time.time():
            return grant.session
        try:
            user = self.system.authenticate_token(token)
        except IggyError:
            raise IggyError(Code.UNAUTHENTICATED) from None
        return Session(0, "", TRANSPORT_HTTP, user.id)

    def refresh(self, token: str, address: str) -> tuple[User, str, int]:
        """(user, new token, its expiry) for a live access token (not a personal one);
        the old token keeps working."""
        grant = self.grants.get(token)
        if grant is None or grant.expires_at <= time.time():
            raise IggyError(Code.UNAUTHENTICATED)
        user = self.system.caller(grant.session)
        return user, *self.issue(user, address)

    def revoke_all(self) -> None:
        self.grants.clear()

    def _forget_expired(self) -> None:
        now = time.time()
        for token in [t for t, g in self.grants.items() if g.expires_at <= now]:
            del self.grants[token]
