"""Reading what a request carries besides its JSON body: path identifiers and query strings,
refused the way Iggy's REST front refuses them; and decoded bodies turned into the state's
arguments (topic options, permissions).

A query value that does not parse is a plain-text 400, "Failed to deserialize query string:
<name>: <what>" (axum's ``Query`` over serde_urlencoded); a numeric path segment that does
not parse is a 400 "Invalid URL: Cannot parse `x` to a `u32`".
"""

from __future__ import annotations

import struct
from dataclasses import fields
from typing import Any

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.http.jsonbody import JsonRejection
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
QUERY_PREFIX = "Failed to deserialize query string: "
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


def path_u32(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit() and int(text) <= U32_MAX):
        raise JsonRejection(400, f"Invalid URL: Cannot parse `{text}` to a `u32`")
    return int(text)


def consumer_id(value: Any) -> Identifier:
    """A consumer id as sent in a query string or a JSON body (string or number)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U32_MAX:
        return value
    if isinstance(value, str):
        return identifier(value, "consumer_id")
    raise bad("consumer_id", Code.INVALID_IDENTIFIER)


# ---------------------------------------------------------------------------- query strings
def query_error(message: str, name: str | None = None) -> JsonRejection:
    return JsonRejection(400, QUERY_PREFIX + (f"{name}: " if name else "") + message)


def query_uint(request: web.Request, name: str, default: int | None, limit: int = U32_MAX,
               *, named: bool = True) -> int | None:
    """An unsigned query value, refused with Rust's integer-parsing words. ``named=False``
    for fields Iggy flattens from a nested type (its error then names no field)."""
    text = request.query.get(name)
    if text is None:
        return default
    label = name if named else None
    if text == "":
        raise query_error("cannot parse integer from empty string", label)
    digits = text[1:] if text.startswith("+") else text
    if not (digits.isascii() and digits.isdigit()):
        raise query_error("invalid digit found in string", label)
    if int(digits) > limit:
        raise query_error("number too large to fit in target type", label)
    return int(digits)


def required_query_uint(request: web.Request, name: str) -> int:
    value = query_uint(request, name, None)
    if value is None:
        raise query_error(f"missing field `{name}`")
    return value


def query_flag(request: web.Request, name: str) -> bool:
    text = request.query.get(name, "false")
    if text not in ("true", "false"):
        raise query_error("provided string was not `true` or `false`", name)
    return text == "true"


# ---------------------------------------------------------------------------- decoded bodies
def string_options(options: dict[str, str]) -> Options:
    """An ``options`` map of strings as String TLV values (the state checks the keys)."""
    return {key: (STRING, value.encode()) for key, value in options.items()}


def topic_options(body: dict[str, Any], creating: bool) -> Options:
    """Fold ``compression_algorithm``, ``message_expiry`` and ``max_topic_size`` into the
    ``options`` strings, as the option block the binary protocol carries (the state parses
    and checks every value, "7 days" and "128 MiB" included).

    Server defaults (compression "none", expiry and size 0) are left out, as Iggy leaves
    them to its defaults; on update every field present is a change.
    """
    options = string_options(body["options"])
    compression = body.get("compression_algorithm")
    if compression is not None and (not creating or compression != "none"):
        options["compression_algorithm"] = (STRING, compression.encode())
    for key in ("message_expiry", "max_topic_size"):
        value = body.get(key)
        if value is not None and (value or not creating):
            options[key] = (UINT64, struct.pack("<Q", value))
    return options


def permissions(value: dict[str, Any] | None) -> Permissions | None:
    """Decoded permissions JSON (``null`` = none at all) as the state's dataclasses."""
    if value is None:
        return None
    streams = value["streams"]
    return Permissions(_flags(GlobalPermissions, value["global"]), None if streams is None else {
        stream_id: _stream(stream) for stream_id, stream in streams.items()})


def _stream(value: dict[str, Any]) -> StreamPermissions:
    stream = _flags(StreamPermissions, value)
    topics = value["topics"]
    stream.topics = None if topics is None else {
        topic_id: _flags(TopicPermissions, topic) for topic_id, topic in topics.items()}
    return stream


def _flags(kind: type, value: dict[str, Any]) -> Any:
    return kind(**{f.name: value[f.name] for f in fields(kind) if f.name != "topics"})
