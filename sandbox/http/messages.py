"""Send and poll messages as JSON.

Balanced and key partitioning are resolved here, by the server: the SDK does that only on
TCP. Over HTTP the consumer kind is never sent, so every poll is a single consumer's. A
send answers 201 with the confirmation (``Iggy-Durability: replicated-memory``: accepted
in memory, not yet on disk), or 202 with nothing when ``?ack=none``. A poll of a stream
or topic that does not exist is Iggy's generic 404.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.http.batches import build_batch
from sandbox.http.context import CALLER, system_of, user_of
from sandbox.http.errors import iggy_error_response, json_reply, json_text_reply, not_found
from sandbox.http.messagejson import polled_text, read_send
from sandbox.http.params import (
    U64_MAX,
    consumer_id,
    path_ids,
    query_error,
    query_flag,
    query_uint,
)
from sandbox.state.model import now_micros
from sandbox.wire.codec import CONSUMER_SINGLE, STRATEGY_NAMES, ConsumerRef, Strategy

routes = web.RouteTableDef()
MESSAGES = "/streams/{stream_id}/topics/{topic_id}/messages"
# "offset" and its one-letter short form "o", and so on, as Iggy's PollingKind parses
STRATEGY_KINDS = {**{name: kind for kind, name in STRATEGY_NAMES.items()},
                  **{name[0]: kind for kind, name in STRATEGY_NAMES.items()}}
DEFAULT_POLL_COUNT = 10
DURABILITY = "Iggy-Durability"
ACKS = ("replicated", "none")


@routes.post(MESSAGES)
async def send_messages(request: web.Request) -> web.Response:
    ack = request.query.get("ack", "replicated")
    if ack not in ACKS:
        raise query_error(f"unknown variant `{ack}`, expected `replicated` or `none`", "ack")
    target, messages = await read_send(request)
    batch = build_batch(messages, now_micros())
    stream_id, topic_id, partition_id, base_offset = system_of(request).send_messages(
        user_of(request), *path_ids(request, "stream_id", "topic_id"), target,
        memoryview(batch), len(messages))
    if ack == "none":
        return web.Response(status=202, headers={DURABILITY: "none"})
    confirmation = {"stream_id": stream_id, "topic_id": topic_id,
                    "partition_id": partition_id, "base_offset": base_offset}
    return json_reply({"confirmations": [confirmation]}, status=201,
                      headers={DURABILITY: "replicated-memory"})


@routes.get(MESSAGES)
async def poll_messages(request: web.Request) -> web.Response:
    consumer = ConsumerRef(CONSUMER_SINGLE, consumer_id(request.query.get("consumer_id", "1")))
    partition_id = query_uint(request, "partition_id", 0)
    kind = STRATEGY_KINDS.get(request.query.get("kind", "offset"))
    if kind is None:
        raise query_error("Invalid command")
    strategy = Strategy(kind, query_uint(request, "value", 0, U64_MAX, named=False))
    count = query_uint(request, "count", DEFAULT_POLL_COUNT)
    auto_commit = query_flag(request, "auto_commit")
    stream_ident, topic_ident = path_ids(request, "stream_id", "topic_id")
    caller = request[CALLER]
    try:
        polled = system_of(request).poll_messages(
            caller.session, caller.user, consumer, stream_ident, topic_ident, partition_id,
            strategy, count, auto_commit)
    except IggyError as error:
        if error.code in (Code.STREAM_ID_NOT_FOUND, Code.TOPIC_ID_NOT_FOUND):
            return not_found()
        if error.code == Code.PARTITION_NOT_FOUND:
            # Iggy's REST front looks the partition up itself, so its message names the
            # values as the request named them (other partition errors name 0, 0, 0)
            return iggy_error_response(IggyError(
                Code.PARTITION_NOT_FOUND, partition_id, topic_ident, stream_ident),
                keep_values=True)
        raise
    return json_text_reply(polled_text(polled))
