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
    counts = system_of(request).counts()
    gauges = {
        "streams": counts.streams, "topics": counts.topics, "partitions": counts.partitions,
        "segments": counts.segments, "messages": counts.messages, "users": counts.users,
        "clients": counts.clients,
    }
    lines = ["# HELP http_requests total count of http_requests.",
             "# TYPE http_requests counter",
             f"http_requests_total {request.app[REQUESTS][0]}"]
    for name, value in gauges.items():
        lines += [f"# HELP {name} total count of {name}.", f"# TYPE {name} gauge",
                  f"{name} {value}"]
    return web.Response(text="\n".join(lines + ["# EOF"]) + "\n", charset="utf-8")
