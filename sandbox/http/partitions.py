"""Partitions: add to a topic, remove from its end (there is no GET: see TopicDetails)."""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.jsonbody import read_json
from sandbox.http.params import path_ids, path_u32, required_query_uint

routes = web.RouteTableDef()
PARTITIONS = "/streams/{stream_id}/topics/{topic_id}/partitions"


@routes.post(PARTITIONS)
async def create_partitions(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CREATE_PARTITIONS)
    system_of(request).create_partitions(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"),
                                         body["partitions_count"])
    return web.Response(status=200)


@routes.delete(PARTITIONS)
async def delete_partitions(request: web.Request) -> web.Response:
    count = required_query_uint(request, "partitions_count")
    system_of(request).delete_partitions(user_of(request),
                                         *path_ids(request, "stream_id", "topic_id"), count)
    return web.Response(status=204)


@routes.delete(PARTITIONS + "/{partition_id}")
async def delete_segments(request: web.Request) -> web.Response:
    """Iggy's route to drop a partition's oldest sealed segments (``?segments_count=N``)."""
    partition_id = path_u32(request, "partition_id")
    count = required_query_uint(request, "segments_count")
    system_of(request).delete_segments(user_of(request),
                                       *path_ids(request, "stream_id", "topic_id"),
                                       partition_id, count)
    return web.Response(status=204)
