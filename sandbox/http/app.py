"""The REST front: an aiohttp application on the sandbox's event loop.

One route table per resource family (each in its own module), a bearer-token middleware in
front of everything but ping and the logins, and an error middleware outside it that turns
every failure into Iggy's JSON error body.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.http import (
    auth,
    groups,
    messages,
    offsets,
    partitions,
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

# Enough for a batch of large messages as base64 JSON, small enough that a stray upload
# cannot exhaust a laptop's memory (the real server's default is 2 MB).
MAX_REQUEST_BYTES = 70 * 1024 * 1024
ROUTE_TABLES = (auth.routes, system_info.routes, streams.routes, topics.routes, partitions.routes,
                messages.routes, offsets.routes, groups.routes, users.routes, tokens.routes)


def build_app(system: System, token_lifetime: float = TOKEN_LIFETIME) -> web.Application:
    app = web.Application(middlewares=[iggy_errors, auth.bearer_auth],
                          client_max_size=MAX_REQUEST_BYTES)
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
