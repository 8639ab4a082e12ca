"""Logging in and out over HTTP, and the bearer-token check in front of every other route.

Every route but ping and the logins needs ``Authorization: Bearer <token>``: without that
header (or with another scheme) the answer is 401 ``access_token_missing``, with a token
that is not live 401 ``unauthenticated``. Failed logins are refused at once, as on TCP and
as Iggy does.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.errors import Code, IggyError
from sandbox.http import bodies
from sandbox.http.context import CALLER, TOKENS, Caller, system_of
from sandbox.http.errors import json_reply
from sandbox.http.jsonbody import read_json
from sandbox.http.jsonshapes import identity_json
from sandbox.state.model import User

PUBLIC_ROUTES = frozenset({"/ping", "/users/login", "/users/refresh-token",
                           "/personal-access-tokens/login"})
BEARER = "Bearer "  # exactly this prefix, as Iggy reads it

routes = web.RouteTableDef()


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Routes other than ping and the logins need a live bearer token."""
    match = request.match_info
    if match.http_exception is None and match.route.resource.canonical not in PUBLIC_ROUTES:
        header = request.headers.get("Authorization", "")
        if not header.startswith(BEARER):
            raise IggyError(Code.ACCESS_TOKEN_MISSING)
        token = header[len(BEARER):]
        session = request.app[TOKENS].session_for(token)
        request[CALLER] = Caller(session, system_of(request).caller(session))
    return await handler(request)


@routes.post("/users/login")
async def login_user(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.LOGIN_USER)
    user = await system_of(request).authenticate(body["username"], body["password"])
    return _identity(request, user)


@routes.post("/personal-access-tokens/login")
async def login_with_personal_access_token(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.LOGIN_WITH_TOKEN)
    try:
        user = system_of(request).authenticate_token(body["token"])
    except IggyError as error:  # Iggy does not tell an expired token from a wrong one
        if error.code == Code.PERSONAL_ACCESS_TOKEN_EXPIRED:
            raise IggyError(Code.INVALID_PERSONAL_ACCESS_TOKEN) from None
        raise
    return _identity(request, user)


@routes.post("/users/refresh-token")
async def refresh_token(request: web.Request) -> web.Response:
    """A live access token in the body buys another; the old one keeps working."""
    body = await read_json(request, bodies.REFRESH_TOKEN)
    user, token, expiry = request.app[TOKENS].refresh(body["token"], _address(request))
    return json_reply(identity_json(user.id, token, expiry))


@routes.delete("/users/logout")
async def logout_user(request: web.Request) -> web.Response:
    """Iggy ends the caller's HTTP session here; the token itself stays valid."""
    return web.Response(status=204)


def _identity(request: web.Request, user: User) -> web.Response:
    token, expiry = request.app[TOKENS].issue(user, _address(request))
    return json_reply(identity_json(user.id, token, expiry))


def _address(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if peer else (request.remote or "unknown")
