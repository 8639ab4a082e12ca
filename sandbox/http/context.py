"""Typed keys for what the app and each request carry, and short accessors for handlers."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sandbox.http.bearer import AccessTokens
from sandbox.state.model import Session, User
from sandbox.state.system import System


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an authenticated request: their session and user."""

    session: Session
    user: User


SYSTEM = web.AppKey("system", System)
TOKENS = web.AppKey("tokens", AccessTokens)
CALLER = web.RequestKey("caller", Caller)


def system_of(request: web.Request) -> System:
    return request.app[SYSTEM]


def user_of(request: web.Request) -> User:
    return request[CALLER].user
