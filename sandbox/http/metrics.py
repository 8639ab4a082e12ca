"""``GET /metrics``: Iggy's Prometheus scrape, in the OpenMetrics text its server writes.

The same metric families as Iggy (an ``http_requests`` counter of every request the front
received, gauges of streams, topics, partitions, segments, messages, users and clients);
like every route but ping it needs a bearer token.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.http.context import system_of

REQUESTS = web.AppKey("http_requests", list)  # one-item list: the count, mutable in place

routes = web.RouteTableDef()


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost, as Iggy counts: every request, CORS preflights included."""
    request.app[REQUESTS][0] += 1
    return await handler(request)


@routes.get("/metrics")
async def get_metrics(request: web.Request) -> web.Response:
    system = system_of(request)
    topics = [t for s in system.streams.values() for t in s.topics.values()]
    partitions = [p for t in topics for p in t.partitions.values()]
    gauges = {
        "streams": len(system.streams), "topics": len(topics), "partitions": len(partitions),
        "segments": sum(p.log.segments_count for p in partitions),
        "messages": sum(p.log.messages_count for p in partitions),
        "users": len(system.users), "clients": len(system.sessions),
    }
    lines = ["# HELP http_requests total count of http_requests.",
             "# TYPE http_requests counter",
             f"http_requests_total {request.app[REQUESTS][0]}"]
    for name, value in gauges.items():
        lines += [f"# HELP {name} total count of {name}.", f"# TYPE {name} gauge",
                  f"{name} {value}"]
    return web.Response(text="\n".join(lines + ["# EOF"]) + "\n", charset="utf-8")
