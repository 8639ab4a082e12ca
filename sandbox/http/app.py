"""The REST front: an aiohttp application on the sandbox's event loop.

One route table per resource family (each in its own module), a bearer-token middleware in
front of everything but ping and the logins, an error middleware outside it that answers
every failure as Iggy does, and CORS outermost.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.http import (
    auth,
    cors,
    groups,
    messages,
    metrics,
    offsets,
    partitions,
    snapshot,
    streams,
    tokens,
    topics,
    users,
)
from sandbox.http import system as system_info
from sandbox.http.bearer import TOKEN_LIFETIME, AccessTokens
from sandbox.http.context import SYSTEM, TOKENS
from sandbox.http.errors import iggy_errors
from sandbox.state.system import System

# Iggy's default ``http.max_request_size`` ("2 MB"): a larger body is refused with 413.
MAX_REQUEST_BYTES = 2_000_000
# The router tries routes in this order: messages first, since sends and polls are most of
# the traffic (no two routes match the same path, so the order changes nothing else).
ROUTE_TABLES = (messages.routes, auth.routes, system_info.routes, metrics.routes,
                snapshot.routes, streams.routes, topics.routes, partitions.routes,
                offsets.routes, groups.routes, users.routes, tokens.routes)
VIEW = {"Iggy-View": "0"}  # the consensus view a single node is always in


@web.middleware
async def view_header(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Iggy tags successful answers (not ``/ping``, not errors) with its view number."""
    response = await handler(request)
    if response.status < 400 and request.path != "/ping":
        response.headers.update(VIEW)
    return response


def build_app(system: System, token_lifetime: float = TOKEN_LIFETIME) -> web.Application:
    app = web.Application(middlewares=[metrics.count_requests, cors.cors, view_header,
                                       iggy_errors, auth.bearer_auth],
                          client_max_size=MAX_REQUEST_BYTES)
    app[metrics.REQUESTS] = [0]
    app[SYSTEM] = system
    app[TOKENS] = AccessTokens(system, token_lifetime)
    for table in ROUTE_TABLES:
        app.add_routes(table)
    return app


class HttpFront:
    """Serves the REST API for one ``System``; ``start`` returns the bound (host, port)."""

    def __init__(self, system: System, token_lifetime: float = TOKEN_LIFETIME):
        self.app = build_app(system, token_lifetime)
        self.runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port, reuse_address=True).start()
        bound_host, bound_port = self.runner.addresses[0][:2]
        return bound_host, bound_port

    async def stop(self) -> None:
        """Close the listener; every access token dies with it, as on a real restart."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        self.app[TOKENS].revoke_all()
