"""Streams: list, create, get, rename, delete, purge."""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply, not_found
from sandbox.http.jsonbody import read_json
from sandbox.http.jsonshapes import stream_json
from sandbox.http.params import path_id, string_options

routes = web.RouteTableDef()
NO_CONTENT = 204


@routes.get("/streams")
async def get_streams(request: web.Request) -> web.Response:
    streams = system_of(request).get_streams(user_of(request))
    return json_reply([stream_json(s) for s in streams])


@routes.post("/streams")
async def create_stream(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CREATE_STREAM)
    stream = system_of(request).create_stream(user_of(request), body["name"])
    return json_reply(stream_json(stream, details=True))


@routes.get("/streams/{stream_id}")
async def get_stream(request: web.Request) -> web.Response:
    stream = system_of(request).get_stream(user_of(request), path_id(request, "stream_id"))
    return json_reply(stream_json(stream, details=True)) if stream else not_found()


@routes.put("/streams/{stream_id}")
async def update_stream(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.UPDATE_STREAM)
    system_of(request).update_stream(user_of(request), path_id(request, "stream_id"),
                                     body["name"], string_options(body["options"]))
    return web.Response(status=NO_CONTENT)


@routes.delete("/streams/{stream_id}")
async def delete_stream(request: web.Request) -> web.Response:
    system_of(request).delete_stream(user_of(request), path_id(request, "stream_id"))
    return web.Response(status=NO_CONTENT)


@routes.delete("/streams/{stream_id}/purge")
async def purge_stream(request: web.Request) -> web.Response:
    system_of(request).purge_stream(user_of(request), path_id(request, "stream_id"))
    return web.Response(status=NO_CONTENT)
