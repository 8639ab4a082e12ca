"""Logging in and out over HTTP, and the bearer-token check in front of every other route."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.errors import Code, IggyError
from sandbox.http.context import CALLER, TOKENS, Caller, system_of
from sandbox.http.jsonshapes import identity_json
from sandbox.http.params import json_object, text_field
from sandbox.state.model import User

PUBLIC_ROUTES = frozenset({"/ping", "/users/login", "/users/refresh-token",
                           "/personal-access-tokens/login"})

routes = web.RouteTableDef()


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Routes other than ping and the logins need ``Authorization: Bearer <token>``: a live
    access token, or a personal access token."""
    match = request.match_info
    if match.http_exception is None and match.route.resource.canonical not in PUBLIC_ROUTES:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise IggyError(Code.UNAUTHENTICATED)
        session = request.app[TOKENS].bearer_session(token, _peer(request))
        request[CALLER] = Caller(token, session, system_of(request).caller(session))
    return await handler(request)


@routes.post("/users/login")
async def login_user(request: web.Request) -> web.Response:
    body = await json_object(request)
    username = text_field(body, "username")
    password = text_field(body, "password")
    return _identity(request, await system_of(request).authenticate(username, password))


@routes.post("/personal-access-tokens/login")
async def login_with_personal_access_token(request: web.Request) -> web.Response:
    body = await json_object(request)
    token = text_field(body, "token")
    return _identity(request, system_of(request).authenticate_token(token))


@routes.post("/users/refresh-token")
async def refresh_token(request: web.Request) -> web.Response:
    """A live token in the body buys a new one; the old one stops working."""
    body = await json_object(request)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise IggyError(Code.UNAUTHENTICATED)
    tokens = request.app[TOKENS]
    user = system_of(request).caller(tokens.session_for(token))
    return web.json_response(identity_json(user.id, *tokens.refresh(token)))


@routes.delete("/users/logout")
async def logout_user(request: web.Request) -> web.Response:
    request.app[TOKENS].revoke(request[CALLER].token)
    return web.Response(status=204)


def _identity(request: web.Request, user: User) -> web.Response:
    token, expiry = request.app[TOKENS].issue(user, _peer(request))
    return web.json_response(identity_json(user.id, token, expiry))


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if peer else (request.remote or "unknown")
