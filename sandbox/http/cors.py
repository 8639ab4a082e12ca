"""CORS as Iggy's default configuration sets it: any origin, the four REST methods, and the
``content-type``/``authorization`` request headers.

Every answer carries ``Access-Control-Allow-Origin: *`` (whether or not the request named
an origin); a preflight (OPTIONS with ``Access-Control-Request-Method``) is answered here,
before authentication, with the allowed methods and headers.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.http.errors import allowed

ALLOW_ORIGIN = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {"Access-Control-Allow-Methods": "GET,POST,PUT,DELETE",
             "Access-Control-Allow-Headers": "content-type,authorization"}
EXPOSED = {"Access-Control-Expose-Headers": "iggy-view"}


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return _preflight(request)
    response = await handler(request)
    response.headers.update(ALLOW_ORIGIN)
    response.headers.update(EXPOSED)
    return response


def _preflight(request: web.Request) -> web.Response:
    """Iggy's preflight answer also names the route's methods in ``Allow``."""
    headers = {**ALLOW_ORIGIN, **PREFLIGHT}
    refused = request.match_info.http_exception  # no route serves OPTIONS itself
    if isinstance(refused, web.HTTPMethodNotAllowed):
        headers["Allow"] = allowed(refused.allowed_methods)
    return web.Response(status=200, headers=headers)
