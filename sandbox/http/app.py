"""aiohttp application for the REST subset (being filled in)."""

from __future__ import annotations

from aiohttp import web

from sandbox.state.system import System


class HttpFront:
    def __init__(self, system: System):
        self.system = system
        self.runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        app = web.Application()
        app.router.add_get("/ping", lambda request: web.Response(text="pong"))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_address=True)
        await site.start()
        return site._server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
