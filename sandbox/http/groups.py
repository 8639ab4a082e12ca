"""Consumer groups: list, create, get, delete (joining is a TCP affair)."""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply, not_found
from sandbox.http.jsonbody import read_json
from sandbox.http.jsonshapes import group_json
from sandbox.http.params import path_ids

routes = web.RouteTableDef()
GROUPS = "/streams/{stream_id}/topics/{topic_id}/consumer-groups"
GROUP = GROUPS + "/{group_id}"


@routes.get(GROUPS)
async def get_consumer_groups(request: web.Request) -> web.Response:
    topic, groups = system_of(request).get_consumer_groups(
        user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return json_reply([group_json(topic, g) for g in groups])


@routes.post(GROUPS)
async def create_consumer_group(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CREATE_GROUP)
    topic, group = system_of(request).create_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id"), body["name"])
    return json_reply(group_json(topic, group, details=True))


@routes.get(GROUP)
async def get_consumer_group(request: web.Request) -> web.Response:
    topic, group = system_of(request).get_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id", "group_id"))
    return json_reply(group_json(topic, group, details=True)) if group else not_found()


@routes.delete(GROUP)
async def delete_consumer_group(request: web.Request) -> web.Response:
    system_of(request).delete_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id", "group_id"))
    return web.Response(status=204)
