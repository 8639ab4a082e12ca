"""Streams: list, create, get, rename, delete, purge."""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.jsonshapes import stream_json
from sandbox.http.params import json_object, path_id, string_options, text_field

routes = web.RouteTableDef()
NO_CONTENT = 204


@routes.get("/streams")
async def get_streams(request: web.Request) -> web.Response:
    streams = system_of(request).get_streams(user_of(request))
    return web.json_response([stream_json(s) for s in streams])


@routes.post("/streams")
async def create_stream(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = text_field(body, "name", Code.INVALID_STREAM_NAME)
    stream = system_of(request).create_stream(user_of(request), name)
    return web.json_response(stream_json(stream, details=True))


@routes.get("/streams/{stream_id}")
async def get_stream(request: web.Request) -> web.Response:
    stream = system_of(request).get_stream(user_of(request), path_id(request, "stream_id"))
    return web.json_response(stream_json(stream, details=True)) if stream else not_found()


@routes.put("/streams/{stream_id}")
async def update_stream(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_of(request).update_stream(user_of(request), path_id(request, "stream_id"),
                                     text_field(body, "name", Code.INVALID_STREAM_NAME),
                                     string_options(body))
    return web.Response(status=NO_CONTENT)


@routes.delete("/streams/{stream_id}")
async def delete_stream(request: web.Request) -> web.Response:
    system_of(request).delete_stream(user_of(request), path_id(request, "stream_id"))
    return web.Response(status=NO_CONTENT)


@routes.delete("/streams/{stream_id}/purge")
async def purge_stream(request: web.Request) -> web.Response:
    system_of(request).purge_stream(user_of(request), path_id(request, "stream_id"))
    return web.Response(status=NO_CONTENT)
