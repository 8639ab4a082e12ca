"""Partitions: add to a topic, remove from its end (there is no GET: see TopicDetails)."""

from __future__ import annotations

from aiohttp import web

from sandbox.http.context import system_of, user_of
from sandbox.http.params import bad, json_object, path_ids, query_uint, required_uint

routes = web.RouteTableDef()
PARTITIONS = "/streams/{stream_id}/topics/{topic_id}/partitions"


@routes.post(PARTITIONS)
async def create_partitions(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_of(request).create_partitions(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"),
                                         required_uint(body, "partitions_count"))
    return web.Response(status=200)


@routes.delete(PARTITIONS)
async def delete_partitions(request: web.Request) -> web.Response:
    count = query_uint(request, "partitions_count", None)
    if count is None:
        raise bad("partitions_count")
    system_of(request).delete_partitions(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"), count)
    return web.Response(status=204)


@routes.delete(PARTITIONS + "/{partition_id}")
async def delete_segments(request: web.Request) -> web.Response:
    """Iggy's route to drop a partition's oldest sealed segments (``?segments_count=N``)."""
    count = query_uint(request, "segments_count", None)
    if count is None:
        raise bad("segments_count")
    text = request.match_info["partition_id"]
    if not (text.isascii() and text.isdigit()):
        raise bad("partition_id")
    system_of(request).delete_segments(user_of(request),
                                       *path_ids(request, "stream_id", "topic_id"), int(text),
                                       count)
    return web.Response(status=204)
