"""Topics: list, create, get (with partitions), update, delete, purge."""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply, not_found
from sandbox.http.jsonbody import read_json
from sandbox.http.jsonshapes import topic_json
from sandbox.http.params import path_id, path_ids, topic_options

routes = web.RouteTableDef()
TOPICS = "/streams/{stream_id}/topics"
TOPIC = TOPICS + "/{topic_id}"
NO_CONTENT = 204


@routes.get(TOPICS)
async def get_topics(request: web.Request) -> web.Response:
    topics = system_of(request).get_topics(user_of(request), path_id(request, "stream_id"))
    return json_reply([topic_json(t) for t in topics])


@routes.post(TOPICS)
async def create_topic(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CREATE_TOPIC)
    topic = system_of(request).create_topic(
        user_of(request), path_id(request, "stream_id"), body["name"],
        body["partitions_count"], topic_options(body, creating=True))
    return json_reply(topic_json(topic, details=True, created=True))


@routes.get(TOPIC)
async def get_topic(request: web.Request) -> web.Response:
    topic = system_of(request).get_topic(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"))
    return json_reply(topic_json(topic, details=True)) if topic else not_found()


@routes.put(TOPIC)
async def update_topic(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.UPDATE_TOPIC)
    system_of(request).update_topic(
        user_of(request), *path_ids(request, "stream_id", "topic_id"), body["name"],
        topic_options(body, creating=False))
    return web.Response(status=NO_CONTENT)


@routes.delete(TOPIC)
async def delete_topic(request: web.Request) -> web.Response:
    system_of(request).delete_topic(user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return web.Response(status=NO_CONTENT)


@routes.delete(TOPIC + "/purge")
async def purge_topic(request: web.Request) -> web.Response:
    system_of(request).purge_topic(user_of(request), *path_ids(request, "stream_id", "topic_id"))
    return web.Response(status=NO_CONTENT)
