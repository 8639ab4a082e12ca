"""Consumer offsets of single consumers: get, store, delete.

A missing ``consumer_id`` means consumer 1; a missing ``partition_id`` means partition 0.
A read that finds nothing (no such stream, topic, partition or stored offset) is Iggy's
generic 404; a write to something that does not exist is ``resource_not_found``.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import IggyError
from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import NOT_FOUND_CODES, json_reply, not_found
from sandbox.http.jsonbody import read_json
from sandbox.http.params import consumer_id, path_ids, query_uint
from sandbox.wire.codec import CONSUMER_SINGLE, ConsumerRef

routes = web.RouteTableDef()
OFFSETS = "/streams/{stream_id}/topics/{topic_id}/consumer-offsets"
DEFAULT_CONSUMER = 1


def _consumer(value: object) -> ConsumerRef:
    return ConsumerRef(CONSUMER_SINGLE, consumer_id(value))


@routes.get(OFFSETS)
async def get_consumer_offset(request: web.Request) -> web.Response:
    consumer = _consumer(request.query.get("consumer_id", str(DEFAULT_CONSUMER)))
    partition_id = query_uint(request, "partition_id", None)
    try:
        found = system_of(request).get_consumer_offset(
            user_of(request), consumer, *path_ids(request, "stream_id", "topic_id"),
            partition_id)
    except IggyError as error:
        if error.code in NOT_FOUND_CODES:
            return not_found()
        raise
    if found is None:
        return not_found()
    partition, current_offset, stored_offset = found
    return json_reply({"partition_id": partition, "current_offset": current_offset,
                       "stored_offset": stored_offset})


@routes.put(OFFSETS)
async def store_consumer_offset(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.STORE_OFFSET)
    system_of(request).store_consumer_offset(
        None, user_of(request), _consumer(body["consumer_id"]),
        *path_ids(request, "stream_id", "topic_id"), body["partition_id"], body["offset"])
    return web.Response(status=204)


@routes.delete(OFFSETS + "/{consumer_id}")
async def delete_consumer_offset(request: web.Request) -> web.Response:
    system_of(request).delete_consumer_offset(
        None, user_of(request), _consumer(request.match_info["consumer_id"]),
        *path_ids(request, "stream_id", "topic_id"), query_uint(request, "partition_id", None))
    return web.Response(status=204)
