"""Reading what a request carries: path identifiers, query values and JSON bodies.

Anything malformed becomes an ``IggyError`` (InvalidFormat unless Iggy has a better code)
whose ``field`` names the culprit, so the client learns what to fix. JSON ``true`` is never
taken for the number 1.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.state.model import (
    GlobalPermissions,
    Permissions,
    StreamPermissions,
    TopicPermissions,
)
from sandbox.wire.codec import STRING, UINT64, Identifier

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
MAX_IDENTIFIER_BYTES = 255
Options = dict[str, tuple[int, bytes]]


def bad(field: str, code: Code = Code.INVALID_FORMAT) -> IggyError:
    return IggyError(code, field=field)


# ---------------------------------------------------------------------------- identifiers
def identifier(text: str, field: str = "id") -> Identifier:
    """All ASCII digits and within u32 = a numeric id; anything else = a name (Iggy's rule)."""
    if text.isascii() and text.isdigit() and int(text) <= U32_MAX:
        return int(text)
    if not 1 <= len(text.encode()) <= MAX_IDENTIFIER_BYTES:
        raise bad(field, Code.INVALID_IDENTIFIER)
    return text


def path_id(request: web.Request, name: str) -> Identifier:
    return identifier(request.match_info[name], name)


def path_ids(request: web.Request, *names: str) -> tuple[Identifier, ...]:
    return tuple(path_id(request, name) for name in names)


def consumer_id(value: Any) -> Identifier:
    """A consumer id as sent in a query string or a JSON body (string or number)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U32_MAX:
        return value
    if isinstance(value, str):
        return identifier(value, "consumer_id")
    raise bad("consumer_id", Code.INVALID_IDENTIFIER)


# ---------------------------------------------------------------------------- query strings
def query_uint(request: web.Request, name: str, default: int | None,
               limit: int = U32_MAX) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or int(text) > limit:
        raise bad(name)
    return int(text)


def query_flag(request: web.Request, name: str) -> bool:
    text = request.query.get(name, "false").lower()
    if text not in ("true", "false"):
        raise bad(name)
    return text == "true"


# ---------------------------------------------------------------------------- JSON bodies
async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; anything else is InvalidFormat."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad("body") from None
    if not isinstance(body, dict):
        raise bad("body")
    return body


def text_field(body: dict, name: str, code: Code = Code.INVALID_FORMAT) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise bad(name, code)
    return value


def uint_field(body: dict, name: str, limit: int = U32_MAX) -> int | None:
    """A non-negative integer field up to ``limit``; None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise bad(name)
    return value


def required_uint(body: dict, name: str, limit: int = U32_MAX) -> int:
    value = uint_field(body, name, limit)
    if value is None:
        raise bad(name)
    return value


def user_status(value: Any) -> bool:
    """Iggy's status names: "active" → True, "inactive" → False."""
    if value not in ("active", "inactive"):
        raise bad("status", Code.INVALID_USER_STATUS)
    return value == "active"


def _option_texts(body: dict) -> dict[str, str]:
    options = body.get("options") or {}
    if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        raise bad("options")
    return options


def string_options(body: dict) -> Options:
    """An ``options`` map of strings as String TLV values (streams and users check the keys)."""
    return {key: (STRING, value.encode()) for key, value in _option_texts(body).items()}


# ---------------------------------------------------------------------------- topic options
def topic_options(body: dict, creating: bool) -> Options:
    """Fold ``compression_algorithm``, ``message_expiry`` and ``max_topic_size`` into the
    ``options`` strings, as the option block the binary protocol carries (the state parses
    and checks every value, "7 days" and "128 MiB" included).

    On create, server defaults (compression "none", expiry and size 0) are left out, as the
    SDK does over TCP; on update every non-null field is a change.
    """
    options = string_options(body)
    compression = body.get("compression_algorithm")
    if compression is not None:
        if not isinstance(compression, str):
            raise bad("compression_algorithm", Code.INVALID_OPTION_VALUE)
        if not creating or compression.lower() != "none":
            options["compression_algorithm"] = (STRING, compression.encode())
    for key in ("message_expiry", "max_topic_size"):
        value = uint_field(body, key, U64_MAX)
        if value is not None and (value or not creating):
            options[key] = (UINT64, struct.pack("<Q", value))
    return options


# ---------------------------------------------------------------------------- permissions
def permissions(value: Any) -> Permissions | None:
    """Iggy's permissions JSON (``null`` = none at all) as the state's dataclasses."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("permissions")
    streams = _id_map(value.get("streams"), "streams", _stream_permissions)
    return Permissions(_flags(GlobalPermissions, value.get("global")), streams)


def _stream_permissions(value: Any) -> StreamPermissions:
    stream = _flags(StreamPermissions, value)
    stream.topics = _id_map(value.get("topics"), "topics",
                            lambda topic: _flags(TopicPermissions, topic))
    return stream


def _flags(kind: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise bad("permissions")
    names = [f.name for f in fields(kind) if f.name != "topics"]
    if any(not isinstance(value.get(name, False), bool) for name in names):
        raise bad("permissions")
    return kind(**{name: value.get(name, False) for name in names})


def _id_map(value: Any, what: str, convert: Callable[[Any], Any]) -> dict[int, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
            k.isascii() and k.isdigit() and int(k) <= U32_MAX for k in value):
        raise bad(f"permissions.{what}")
    return {int(key): convert(entry) for key, entry in value.items()}
