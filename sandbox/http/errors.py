"""Every failure leaves as Iggy's JSON error body with the status Iggy would use.

The body is ``{"id": code, "code": "snake_name", "reason": "...", "field": name | null}``.
Not-found codes answer 404, a missing or dead login 401, a refused permission 403, other
Iggy errors 400. Routing failures (unknown path, wrong method, body too large) use the HTTP
status as their id, and a bug answers 500 with the same shape: the traceback goes to the
log, never to the client.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.errors import NOT_FOUND_CODES, Code, IggyError

log = logging.getLogger("sandbox.http")

# Codes that mean "log in (again)": the SDK turns 401 into Unauthenticated.
LOGIN_CODES = frozenset({Code.UNAUTHENTICATED, Code.INVALID_PERSONAL_ACCESS_TOKEN,
                         Code.PERSONAL_ACCESS_TOKEN_EXPIRED})


def status_for(code: Code) -> int:
    if code in NOT_FOUND_CODES:
        return 404
    if code in LOGIN_CODES:
        return 401
    if code == Code.UNAUTHORIZED:
        return 403
    return 400


def error_response(status: int, id_: int, code: str, reason: str,
                   field: str | None = None) -> web.Response:
    return web.json_response({"id": id_, "code": code, "reason": reason, "field": field},
                             status=status)


def iggy_error_response(error: IggyError) -> web.Response:
    return error_response(status_for(error.code), int(error.code), error.snake_name,
                          error.reason, error.field)


def not_found() -> web.Response:
    """Iggy's generic 404, also what a GET of one missing resource answers."""
    return error_response(404, 404, "not_found", "Resource not found")


@web.middleware
async def iggy_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IggyError as error:
        return iggy_error_response(error)
    except web.HTTPException as error:
        if error.status == 404:
            return not_found()
        if error.status < 400:
            raise
        code = error.reason.lower().replace(" ", "_")
        return error_response(error.status, error.status, code, error.reason)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, int(Code.ERROR), "error",
                              "The sandbox hit an internal error; its log has the details.")
