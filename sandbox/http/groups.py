"""Consumer groups: list, create, get, delete (joining is a TCP affair)."""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.jsonshapes import group_json
from sandbox.http.params import json_object, path_ids, text_field

routes = web.RouteTableDef()
GROUPS = "/streams/{stream_id}/topics/{topic_id}/consumer-groups"
GROUP = GROUPS + "/{group_id}"


@routes.get(GROUPS)
async def get_consumer_groups(request: web.Request) -> web.Response:
    topic, groups = system_of(request).get_consumer_groups(
        user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return web.json_response([group_json(topic, g) for g in groups])


@routes.post(GROUPS)
async def create_consumer_group(request: web.Request) -> web.Response:
    body = await json_object(request)
    topic, group = system_of(request).create_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id"),
        text_field(body, "name", Code.INVALID_CONSUMER_GROUP_NAME))
    return web.json_response(group_json(topic, group, details=True))


@routes.get(GROUP)
async def get_consumer_group(request: web.Request) -> web.Response:
    topic, group = system_of(request).get_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id", "group_id"))
    return web.json_response(group_json(topic, group, details=True)) if group else not_found()


@routes.delete(GROUP)
async def delete_consumer_group(request: web.Request) -> web.Response:
    system_of(request).delete_consumer_group(
        user_of(request), *path_ids(request, "stream_id", "topic_id", "group_id"))
    return web.Response(status=204)
