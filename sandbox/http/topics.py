"""Topics: list, create, get (with partitions), update, delete, purge."""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.jsonshapes import topic_json
from sandbox.http.params import (
    json_object,
    path_id,
    path_ids,
    required_uint,
    text_field,
    topic_options,
)

routes = web.RouteTableDef()
TOPICS = "/streams/{stream_id}/topics"
TOPIC = TOPICS + "/{topic_id}"
NO_CONTENT = 204


@routes.get(TOPICS)
async def get_topics(request: web.Request) -> web.Response:
    topics = system_of(request).get_topics(user_of(request), path_id(request, "stream_id"))
    return web.json_response([topic_json(t) for t in topics])


@routes.post(TOPICS)
async def create_topic(request: web.Request) -> web.Response:
    body = await json_object(request)
    topic = system_of(request).create_topic(
        user_of(request), path_id(request, "stream_id"),
        text_field(body, "name", Code.INVALID_TOPIC_NAME),
        required_uint(body, "partitions_count"), topic_options(body, creating=True))
    return web.json_response(topic_json(topic, details=True))


@routes.get(TOPIC)
async def get_topic(request: web.Request) -> web.Response:
    topic = system_of(request).get_topic(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"))
    return web.json_response(topic_json(topic, details=True)) if topic else not_found()


@routes.put(TOPIC)
async def update_topic(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_of(request).update_topic(
        user_of(request), *path_ids(request, "stream_id", "topic_id"),
        text_field(body, "name", Code.INVALID_TOPIC_NAME), topic_options(body, creating=False))
    return web.Response(status=NO_CONTENT)


@routes.delete(TOPIC)
async def delete_topic(request: web.Request) -> web.Response:
    system_of(request).delete_topic(user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return web.Response(status=NO_CONTENT)


@routes.delete(TOPIC + "/purge")
async def purge_topic(request: web.Request) -> web.Response:
    system_of(request).purge_topic(user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return web.Response(status=NO_CONTENT)
