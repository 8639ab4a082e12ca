"""Personal access tokens of the caller: list, create (the token is shown once), delete."""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code
from sandbox.http.context import system_of, user_of
from sandbox.http.params import U64_MAX, json_object, required_uint, text_field

routes = web.RouteTableDef()
PATH = "/personal-access-tokens"


@routes.get(PATH)
async def get_personal_access_tokens(request: web.Request) -> web.Response:
    tokens = system_of(request).get_tokens(user_of(request))
    return web.json_response([{"name": t.name, "expiry_at": t.expiry_at} for t in tokens])


@routes.post(PATH)
async def create_personal_access_token(request: web.Request) -> web.Response:
    """``expiry`` in µs; 0 (server default) and u64::MAX mean the token never expires."""
    body = await json_object(request)
    token = system_of(request).create_token(
        user_of(request), text_field(body, "name", Code.INVALID_PERSONAL_ACCESS_TOKEN_NAME),
        required_uint(body, "expiry", U64_MAX))
    return web.json_response({"token": token})


@routes.delete(PATH + "/{name}")
async def delete_personal_access_token(request: web.Request) -> web.Response:
    system_of(request).delete_token(user_of(request), request.match_info["name"])
    return web.Response(status=204)
