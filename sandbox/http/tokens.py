"""Personal access tokens of the caller: list, create (the token is shown once), delete."""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply
from sandbox.http.jsonbody import read_json

routes = web.RouteTableDef()
PATH = "/personal-access-tokens"


@routes.get(PATH)
async def get_personal_access_tokens(request: web.Request) -> web.Response:
    tokens = system_of(request).get_tokens(user_of(request))
    return json_reply([{"name": t.name, "expiry_at": t.expiry_at} for t in tokens])


@routes.post(PATH)
async def create_personal_access_token(request: web.Request) -> web.Response:
    """``expiry`` in µs; 0 (server default) and u64::MAX mean the token never expires."""
    body = await read_json(request, bodies.CREATE_TOKEN)
    token = system_of(request).create_token(user_of(request), body["name"], body["expiry"])
    return json_reply({"token": token})


@routes.delete(PATH + "/{name}")
async def delete_personal_access_token(request: web.Request) -> web.Response:
    system_of(request).delete_token(user_of(request), request.match_info["name"])
    return web.Response(status=204)
