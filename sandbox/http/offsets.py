"""Consumer offsets of single consumers: get, store, delete.

A missing ``partition_id`` means partition 0 and a missing ``consumer_id`` means consumer
1, as the SDK's defaults say.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.params import (
    U64_MAX,
    consumer_id,
    json_object,
    path_ids,
    query_uint,
    required_uint,
    uint_field,
)
from sandbox.wire.codec import CONSUMER_SINGLE, ConsumerRef

routes = web.RouteTableDef()
OFFSETS = "/streams/{stream_id}/topics/{topic_id}/consumer-offsets"


def _consumer(value: object) -> ConsumerRef:
    return ConsumerRef(CONSUMER_SINGLE, consumer_id("1" if value is None else value))


@routes.get(OFFSETS)
async def get_consumer_offset(request: web.Request) -> web.Response:
    found = system_of(request).get_consumer_offset(
        user_of(request), _consumer(request.query.get("consumer_id")),
        *path_ids(request, "stream_id", "topic_id"), query_uint(request, "partition_id", None))
    if found is None:
        return not_found()
    partition_id, current_offset, stored_offset = found
    return web.json_response({"partition_id": partition_id, "current_offset": current_offset,
                              "stored_offset": stored_offset})


@routes.put(OFFSETS)
async def store_consumer_offset(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_of(request).store_consumer_offset(
        user_of(request), _consumer(body.get("consumer_id")),
        *path_ids(request, "stream_id", "topic_id"), uint_field(body, "partition_id"),
        required_uint(body, "offset", U64_MAX))
    return web.Response(status=204)


@routes.delete(OFFSETS + "/{consumer_id}")
async def delete_consumer_offset(request: web.Request) -> web.Response:
    system_of(request).delete_consumer_offset(
        user_of(request), _consumer(request.match_info["consumer_id"]),
        *path_ids(request, "stream_id", "topic_id"), query_uint(request, "partition_id", None))
    return web.Response(status=204)
