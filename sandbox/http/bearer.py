"""Bearer access tokens for the REST API: random, opaque, held only in memory.

A login opens an HTTP client session (it shows in ``/clients`` and the stats) and hands out
a token that names it for an hour, as Iggy's JWTs do. The SDK only echoes the token back,
so it need not be a JWT. Logout and refresh revoke the token they are given; a restart
forgets every token, exactly like the real server.

A personal access token is accepted as a bearer too, as Iggy does: it is checked on every
request (a deleted or expired one stops working at once) and gets one HTTP session per
token, held only while the token stays valid.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sandbox.errors import Code, IggyError
from sandbox.state.model import Session, User
from sandbox.state.system import TRANSPORT_HTTP, System
from sandbox.state.users import hash_token

TOKEN_LIFETIME = 3600.0  # seconds, Iggy's default access token expiry


@dataclass(slots=True)
class Grant:
    session: Session
    expires_at: float  # unix seconds


class AccessTokens:
    """Token -> HTTP session, with expiry."""

    def __init__(self, system: System, lifetime: float = TOKEN_LIFETIME):
        self.system = system
        self.lifetime = lifetime
        self.grants: dict[str, Grant] = {}
        self.token_sessions: dict[str, Session] = {}  # personal access token hash -> session

    def issue(self, user: User, address: str) -> tuple[str, int]:
        """Open a session for ``user``; returns (token, expiry in unix seconds)."""
        self._forget_expired()
        session = self.system.open_session(address, TRANSPORT_HTTP)
        session.user_id = user.id
        return self._grant(session)

    def session_for(self, token: str) -> Session:
        """The session a live token names; Unauthenticated for unknown or expired ones."""
        grant = self.grants.get(token)
        if grant is None:
            raise IggyError(Code.UNAUTHENTICATED)
        if grant.expires_at <= time.time():
            self.revoke(token)
            raise IggyError(Code.UNAUTHENTICATED)
        return grant.session

    def bearer_session(self, bearer: str, address: str) -> Session:
        """The session of an ``Authorization: Bearer`` value: a live access token, or a
        valid personal access token; Unauthenticated for anything else."""
        if bearer in self.grants:
            return self.session_for(bearer)
        key = hash_token(bearer)
        try:
            user = self.system.authenticate_token(bearer)
        except IggyError:
            self._forget_token_session(key)
            raise IggyError(Code.UNAUTHENTICATED) from None
        session = self.token_sessions.get(key)
        if session is None:
            session = self.token_sessions[key] = self.system.open_session(address, TRANSPORT_HTTP)
            session.user_id = user.id
        return session

    def refresh(self, token: str) -> tuple[str, int]:
        """Swap a live token for a new one on the same session (the old one stops working)."""
        session = self.session_for(token)
        del self.grants[token]
        return self._grant(session)

    def revoke(self, token: str) -> None:
        grant = self.grants.pop(token, None)
        if grant is not None:
            self.system.close_session(grant.session)

    def revoke_all(self) -> None:
        for token in list(self.grants):
            self.revoke(token)
        for key in list(self.token_sessions):
            self._forget_token_session(key)

    def _forget_token_session(self, key: str) -> None:
        session = self.token_sessions.pop(key, None)
        if session is not None:
            self.system.close_session(session)

    def _grant(self, session: Session) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + self.lifetime
        self.grants[token] = Grant(session, expires_at)
        return token, int(expires_at)

    def _forget_expired(self) -> None:
        now = time.time()
        for token in [t for t, g in self.grants.items() if g.expires_at <= now]:
            self.revoke(token)
