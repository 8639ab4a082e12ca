"""Every failure leaves the way Iggy's REST front answers it.

An Iggy error is JSON, ``{"id": code, "code": "snake_name", "reason": "...", "field": name
| null}``, with Iggy's status (404 for the not-found codes, 401 for a missing or bad
credential, 403 for a refused permission, else 400) and Iggy's ``field`` for the code. Its
``reason`` is the code's text without the values (``Stream with ID: 0 was not found.``),
because Iggy's writes travel through its consensus log as codes only; the few errors its
REST front raises itself keep their values (``REASON_KEEPS_VALUES``, and a poll's missing
partition, which the poll answers with ``keep_values``).

Requests the router or the body decoder refuse are plain: an unknown route is an empty 404,
a wrong method an empty 405 with ``Allow``, a body over the limit a 413 text, a JSON body
of the wrong shape the ``jsonbody`` texts. A bug answers 500 in Iggy's shape; the
traceback goes to the log, never to the client.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.errors import Code, IggyError
from sandbox.http.jsonbody import JsonRejection

log = logging.getLogger("sandbox.http")

NOT_FOUND_CODES = frozenset({
    Code.STREAM_ID_NOT_FOUND, Code.TOPIC_ID_NOT_FOUND, Code.PARTITION_NOT_FOUND,
    Code.CONSUMER_GROUP_ID_NOT_FOUND, Code.CONSUMER_GROUP_MEMBER_NOT_FOUND,
    Code.CONSUMER_OFFSET_NOT_FOUND, Code.RESOURCE_NOT_FOUND})
LOGIN_CODES = frozenset({Code.UNAUTHENTICATED, Code.ACCESS_TOKEN_MISSING,
                         Code.INVALID_ACCESS_TOKEN, Code.INVALID_PERSONAL_ACCESS_TOKEN})
FIELDS = {
    Code.STREAM_ID_NOT_FOUND: "stream_id", Code.TOPIC_ID_NOT_FOUND: "topic_id",
    Code.PARTITION_NOT_FOUND: "partition_id", Code.INVALID_STREAM_NAME: "name",
    Code.STREAM_NAME_ALREADY_EXISTS: "name", Code.INVALID_TOPIC_NAME: "name",
    Code.TOPIC_NAME_ALREADY_EXISTS: "name", Code.CONSUMER_GROUP_NAME_ALREADY_EXISTS: "name",
    Code.PERSONAL_ACCESS_TOKEN_ALREADY_EXISTS: "name", Code.INVALID_OFFSET: "offset",
    Code.USER_ALREADY_EXISTS: "username",
}
# Raised by Iggy's REST front itself (request checks), so the reason names the values;
# every other error reaches it as a bare code.
REASON_KEEPS_VALUES = frozenset({Code.INVALID_TOPIC_SIZE, Code.UNSUPPORTED_OPTION_KEY,
                                 Code.INVALID_OPTION_VALUE})
TOO_LARGE = "Failed to buffer the request body: length limit exceeded"


def compact_json(data: Any) -> str:
    """JSON the way Iggy (serde_json) writes it: compact, UTF-8 unescaped."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None
               ) -> web.Response:
    return json_text_reply(compact_json(data), status, headers)


def json_text_reply(text: str, status: int = 200, headers: dict[str, str] | None = None
                    ) -> web.Response:
    """JSON already written as ``compact_json`` writes it, sent as Iggy sends it: typed
    ``application/json`` with no charset."""
    return web.Response(status=status, body=text.encode(), content_type="application/json",
                        headers=headers)


def status_for(code: Code) -> int:
    if code in NOT_FOUND_CODES:
        return 404
    if code in LOGIN_CODES:
        return 401
    if code == Code.UNAUTHORIZED:
        return 403
    return 400


def iggy_error_response(error: IggyError, keep_values: bool = False) -> web.Response:
    """``keep_values``: the reason names the error's values whatever its code."""
    keep = keep_values or error.code in REASON_KEEPS_VALUES
    reason = error.reason if keep else error.code_reason
    return json_reply({"id": int(error.code), "code": error.snake_name, "reason": reason,
                       "field": FIELDS.get(error.code)}, status=status_for(error.code))


def not_found() -> web.Response:
    """Iggy's generic 404, what a read of one missing resource answers."""
    return json_reply({"id": 404, "code": "not_found", "reason": "Resource not found",
                       "field": None}, status=404)


@web.middleware
async def iggy_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IggyError as error:
        return iggy_error_response(error)
    except JsonRejection as rejection:
        return rejection.response()
    except web.HTTPNotFound:
        return web.Response(status=404)
    except web.HTTPMethodNotAllowed as error:
        return web.Response(status=405, headers={"Allow": allowed(error.allowed_methods)})
    except web.HTTPRequestEntityTooLarge:
        return web.Response(status=413, text=TOO_LARGE, charset="utf-8",
                            headers={"Connection": "close"})
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.Response(status=error.status)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_reply({"id": int(Code.ERROR), "code": "error",
                           "reason": "The sandbox hit an internal error; its log has the "
                                     "details.", "field": None}, status=500)


def allowed(methods: set[str] | frozenset[str]) -> str:
    """An ``Allow`` value in Iggy's order: GET and HEAD first, then POST, PUT, DELETE."""
    order = ("GET", "HEAD", "POST", "PUT", "DELETE")
    present = set(methods) | ({"HEAD"} if "GET" in methods else set())
    return ",".join(method for method in order if method in present)
