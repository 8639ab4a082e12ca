"""Send and poll messages as JSON.

Balanced and key partitioning are resolved here, by the server: the SDK does that only on
TCP. Over HTTP the consumer kind is never sent, so every poll is a single consumer's.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.http.batches import build_batch
from sandbox.http.context import CALLER, system_of, user_of
from sandbox.http.messagejson import outgoing_messages, partitioning, polled_json
from sandbox.http.params import (
    U64_MAX,
    bad,
    consumer_id,
    json_object,
    path_ids,
    query_flag,
    query_uint,
)
from sandbox.state.model import now_micros
from sandbox.wire.codec import CONSUMER_SINGLE, STRATEGY_NAMES, ConsumerRef, Strategy

routes = web.RouteTableDef()
MESSAGES = "/streams/{stream_id}/topics/{topic_id}/messages"
# "offset" and its one-letter short form "o", and so on, as the SDK's PollingKind parses
STRATEGY_KINDS = {**{name: kind for kind, name in STRATEGY_NAMES.items()},
                  **{name[0]: kind for kind, name in STRATEGY_NAMES.items()}}
DEFAULT_POLL_COUNT = 10


@routes.post(MESSAGES)
async def send_messages(request: web.Request) -> web.Response:
    body = await json_object(request)
    target = partitioning(body.get("partitioning"))
    messages = outgoing_messages(body.get("messages"))
    batch = build_batch(messages, now_micros())
    stream_id, topic_id, partition_id, base_offset = system_of(request).send_messages(
        user_of(request), *path_ids(request, "stream_id", "topic_id"), target,
        memoryview(batch), len(messages))
    if request.query.get("ack") == "none":
        return web.Response(status=202)
    confirmation = {"stream_id": stream_id, "topic_id": topic_id,
                    "partition_id": partition_id, "base_offset": base_offset}
    return web.json_response({"confirmations": [confirmation]}, status=201)


@routes.get(MESSAGES)
async def poll_messages(request: web.Request) -> web.Response:
    kind = STRATEGY_KINDS.get(request.query.get("kind", "offset"))
    if kind is None:
        raise bad("kind")
    strategy = Strategy(kind, query_uint(request, "value", 0, U64_MAX))
    caller = request[CALLER]
    polled = system_of(request).poll_messages(
        caller.session, caller.user,
        ConsumerRef(CONSUMER_SINGLE, consumer_id(request.query.get("consumer_id", "1"))),
        *path_ids(request, "stream_id", "topic_id"), query_uint(request, "partition_id", 0),
        strategy, query_uint(request, "count", DEFAULT_POLL_COUNT),
        query_flag(request, "auto_commit"))
    return web.json_response(polled_json(polled))
