"""JSON request bodies read the way Iggy's server reads them, with the same rejections.

Iggy's REST front decodes a body with axum's ``Json`` extractor: serde_json, driven by the
Rust type the route expects, with serde_path_to_error naming the field that failed. So a
malformed request never reaches Iggy's own checks, and the answer is plain text:

- no JSON ``Content-Type``: 415 "Expected request with `Content-Type: application/json`"
- not JSON at all: 400 "Failed to parse the request body as JSON: <field>: <what> at line L
  column C"
- JSON of the wrong shape (a missing field, a number for a string, an unknown variant):
  422 "Failed to deserialize the JSON body into the target type: <field>: <what> at ..."

``Decoder`` is a small streaming JSON reader that the expected type drives, as serde does,
so errors come in serde's order, with serde_json's wording and positions (bytes counted
from the start of the line). A schema is a tree of ``Kind`` objects; ``Struct`` is a Rust
struct with named fields (missing ones are reported in declaration order).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aiohttp import web

MISSING_JSON_TYPE = "Expected request with `Content-Type: application/json`"
SYNTAX_PREFIX = "Failed to parse the request body as JSON: "
DATA_PREFIX = "Failed to deserialize the JSON body into the target type: "
_WHITESPACE = b" \t\n\r"
_U32_MAX, _U64_MAX = 2**32 - 1, 2**64 - 1
_ESCAPE_OR_CONTROL = re.compile(rb"[\x00-\x1f\\]")


class JsonRejection(Exception):
    """A request refused before any handler ran: a status and a plain-text body."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status
        self.text = text

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.text, charset="utf-8")


def has_json_content_type(request: web.BaseRequest) -> bool:
    """``application/json`` or any ``application/*+json``, as axum accepts."""
    main, _, sub = request.content_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def json_body(request: web.Request) -> bytes:
    """The raw body of a request that says it is JSON; 415 as Iggy answers when not."""
    if not has_json_content_type(request):
        raise JsonRejection(415, MISSING_JSON_TYPE)
    return await request.read()


async def read_json(request: web.Request, kind: Kind) -> Any:
    """The body decoded as ``kind``, or ``JsonRejection`` as Iggy would refuse it."""
    return decode(await json_body(request), kind)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _serde_integer(text: str) -> int | float:
    number = int(text)
    return number if -(2**63) <= number <= _U64_MAX else float(number)


# json's C scanner, made to read valid JSON exactly as ``Decoder.value`` does: no NaN or
# Infinity, and integers beyond 64 bits as floats (as serde_json reads them)
_SCAN = json.JSONDecoder(parse_constant=_no_constant, parse_int=_serde_integer).raw_decode
UNSCANNED = object()


def decode(raw: bytes, kind: Kind) -> Any:
    decoder = Decoder(raw)
    value = kind.read(decoder)
    decoder.end()
    return value


class Decoder:
    """serde_json's reader: positions, paths and error texts; the ``Kind`` says what comes."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.index = 0
        self._text: str | None = None  # the body as text, for the C scanner
        self.key_start = 0  # where the map key read last begins (its opening quote)
        self.path: list[str | int] = []

    # ------------------------------------------------------------------ errors
    def _where(self, index: int) -> str:
        line = self.raw.count(b"\n", 0, index) + 1
        column = index - (self.raw.rfind(b"\n", 0, index) + 1)
        return f" at line {line} column {column}"

    def _path(self) -> str:
        text = ""
        for segment in self.path:
            if isinstance(segment, int):
                text += f"[{segment}]"
            else:
                text += ("." if text else "") + segment
        return f"{text}: " if text else ""

    def syntax(self, message: str, peek: bool = False) -> JsonRejection:
        """serde_json's ``peek_error`` counts the byte it looked at; ``error`` does not."""
        at = min(self.index + 1, len(self.raw)) if peek else self.index
        return JsonRejection(400, SYNTAX_PREFIX + self._path() + message + self._where(at))

    def data(self, message: str, at: int | None = None) -> JsonRejection:
        where = self._where(self.index if at is None else at)
        return JsonRejection(422, DATA_PREFIX + self._path() + message + where)

    def after_struct(self) -> int:
        """Where serde_json places an error a struct's own code raises mid-object (not one
        of its values'): it has tried to close the object first, so past a ``}`` that
        follows."""
        at = self.index
        while at < len(self.raw) and self.raw[at] in _WHITESPACE:
            at += 1
        return at + 1 if at < len(self.raw) and self.raw[at] == ord("}") else at

    def invalid_type(self, found: str, expecting: str) -> JsonRejection:
        return self.data(f"invalid type: {found}, expected {expecting}")

    # ------------------------------------------------------------------ reading
    def peek(self) -> int | None:
        while self.index < len(self.raw) and self.raw[self.index] in _WHITESPACE:
            self.index += 1
        return self.raw[self.index] if self.index < len(self.raw) else None

    def end(self) -> None:
        if self.peek() is not None:
            raise self.syntax("trailing characters", peek=True)

    def value(self) -> tuple[str, Any]:
        """One JSON value of any kind: ("string", "x"), ("integer", 5), ("map", {...}) ..."""
        byte = self.peek()
        if byte is None:
            raise self.syntax("EOF while parsing a value", peek=True)
        if byte == ord('"'):
            return "string", self.string()
        if byte == ord("-") or ord("0") <= byte <= ord("9"):
            return self.number()
        if byte == ord("{"):
            return "map", dict(self.entries(lambda key: self.value()[1]))
        if byte == ord("["):
            return "sequence", list(self.items(lambda index: self.value()[1]))
        for literal, result in ((b"true", ("boolean", True)), (b"false", ("boolean", False)),
                                (b"null", ("null", None))):
            if byte == literal[0]:
                self.ident(literal)
                return result
        raise self.syntax("expected value", peek=True)

    def scan(self) -> Any:
        """The value that starts here, read by json's C scanner: what ``value`` would
        return for it, thousands of times faster. ``UNSCANNED`` (nothing read) when the
        body is not ASCII (the scanner counts characters, not bytes) or the value is not
        valid JSON: then only ``value`` can say what serde says."""
        if self._text is None:
            self._text = self.raw.decode("ascii") if self.raw.isascii() else ""
        if not self._text:
            return UNSCANNED
        try:
            value, self.index = _SCAN(self._text, self.index)
        except (ValueError, RecursionError):
            return UNSCANNED
        return value

    def ident(self, literal: bytes) -> None:
        for expected in literal:
            if self.index >= len(self.raw):
                raise self.syntax("EOF while parsing a value")
            self.index += 1
            if self.raw[self.index - 1] != expected:
                raise self.syntax("expected ident")

    def string(self) -> str:
        start = self.index
        close = self.raw.find(b'"', start + 1)
        try:
            if close > 0 and not _ESCAPE_OR_CONTROL.search(self.raw, start + 1, close):
                # plain text up to the quote: what json.loads makes of it, without its setup
                self.index = close + 1
                return self.raw[start + 1:close].decode("utf-8", "surrogatepass")
            self._walk_string()
            return json.loads(self.raw[start:self.index])
        except (ValueError, UnicodeDecodeError):
            raise self.syntax("invalid unicode code point") from None

    def _walk_string(self) -> None:
        """Step past a string byte by byte, refusing what serde_json refuses where it does."""
        self.index += 1
        while True:
            if self.index >= len(self.raw):
                raise self.syntax("EOF while parsing a string")
            byte = self.raw[self.index]
            self.index += 1
            if byte == ord('"'):
                break
            if byte == ord("\\"):
                if self.index >= len(self.raw):
                    raise self.syntax("EOF while parsing a string")
                if self.raw[self.index] not in b'"\\/bfnrtu':
                    self.index += 1
                    raise self.syntax("invalid escape")
                self.index += 1
            elif byte < 0x20:
                raise self.syntax("control character (\\u0000-\\u001F) found while parsing "
                                  "a string")

    def number(self) -> tuple[str, int | float]:
        start = self.index
        if self.raw[self.index] == ord("-"):
            self.index += 1
        self._digits(leading=True)
        fractional = False
        if self._next_is(b"."):
            fractional = True
            self.index += 1
            self._digits()
        if self._next_is(b"eE"):
            fractional = True
            self.index += 1
            if self._next_is(b"+-"):
                self.index += 1
            self._digits()
        text = self.raw[start:self.index].decode()
        if fractional:
            return "floating point", float(text)
        number = int(text)
        if not -(2**63) <= number <= _U64_MAX:  # beyond 64 bits serde_json reads a float
            return "floating point", float(number)
        return "integer", number

    def _next_is(self, choices: bytes) -> bool:
        return self.index < len(self.raw) and self.raw[self.index] in choices

    def _digits(self, leading: bool = False) -> None:
        if not self._next_is(b"0123456789"):
            if self.index >= len(self.raw):
                raise self.syntax("EOF while parsing a value")
            raise self.syntax("invalid number", peek=True)
        first = self.raw[self.index]
        self.index += 1
        if leading and first == ord("0") and self._next_is(b"0123456789"):
            raise self.syntax("invalid number", peek=True)
        while self._next_is(b"0123456789"):
            self.index += 1

    def entries(self, read_value: Callable[[str], Any],
                check_key: Callable[[str], None] | None = None):
        """The entries of an object, each value read by ``read_value(key)`` with the key
        on the path while it is read; ``check_key`` may refuse a key as soon as it is read."""
        self.index += 1  # the "{"
        first = True
        while True:
            byte = self.peek()
            if byte is None:
                raise self.syntax("EOF while parsing an object", peek=True)
            if byte == ord("}"):
                self.index += 1
                return
            if not first:
                if byte != ord(","):
                    raise self.syntax("expected `,` or `}`", peek=True)
                self.index += 1
                byte = self.peek()
                if byte == ord("}"):
                    raise self.syntax("trailing comma", peek=True)
                if byte is None:
                    raise self.syntax("EOF while parsing a value", peek=True)
            if byte != ord('"'):
                raise self.syntax("key must be a string", peek=True)
            first = False
            self.key_start = self.index
            key = self.string()
            if check_key is not None:
                check_key(key)
            yield key, self._value_at(key, read_value)

    def _value_at(self, key: str, read_value: Callable[[str], Any]) -> Any:
        byte = self.peek()
        if byte != ord(":"):
            raise self.syntax("expected `:`" if byte is not None
                              else "EOF while parsing an object", peek=True)
        self.index += 1
        self.path.append(key)
        value = read_value(key)
        self.path.pop()
        return value

    def key_error(self, key: str, message: str) -> JsonRejection:
        """An error raised while a map key itself is decoded: the path ends with that key,
        placed just after it."""
        self.path.append(key)
        error = self.data(message)
        self.path.pop()
        return error

    def numeric_key_error(self, key: str) -> JsonRejection:
        """A key that must be a number (``"0"``): serde_json stops at its first non-digit
        and calls it a syntax error, the key unknown (``?``) in the path."""
        bad = next(i for i, char in enumerate(key) if not (char.isascii() and char.isdigit()))
        self.path.append("?")
        line_end = self.index
        self.index = self.key_start + 1 + len(key[:bad].encode())
        error = self.syntax("invalid value: expected key to be a number in quotes")
        self.index = line_end
        self.path.pop()
        return error

    def items(self, read_item: Callable[[int], Any]):
        """The items of an array, each read by ``read_item(index)``."""
        self.index += 1  # the "["
        index = 0
        while True:
            byte = self.peek()
            if byte is None:
                raise self.syntax("EOF while parsing a list", peek=True)
            if byte == ord("]"):
                self.index += 1
                return
            if index:
                if byte != ord(","):
                    raise self.syntax("expected `,` or `]`", peek=True)
                self.index += 1
                if self.peek() == ord("]"):
                    raise self.syntax("trailing comma", peek=True)
            self.path.append(index)
            yield read_item(index)
            self.path.pop()
            index += 1


def _unexpected(kind: str, value: Any) -> str:
    """serde's words for a value it did not expect: integer `5`, string "x", map ..."""
    if kind == "string":
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if kind == "integer":
        return f"integer `{value}`"
    if kind == "floating point":
        return f"floating point `{value}`"
    if kind == "boolean":
        return f"boolean `{'true' if value else 'false'}`"
    return kind  # "null", "map", "sequence"


# ---------------------------------------------------------------------------- kinds
class Kind:
    """What a field expects; ``read`` consumes its value or raises serde's error."""

    expecting = "a value"

    def read(self, decoder: Decoder) -> Any:
        kind, value = self.scalar(decoder)
        return self.accept(decoder, kind, value)

    def accept(self, decoder: Decoder, kind: str, value: Any) -> Any:
        raise NotImplementedError

    def scalar(self, decoder: Decoder) -> tuple[str, Any]:
        """A scalar is read whole; a map or array is refused where it starts, unread."""
        byte = decoder.peek()
        if byte in (ord("{"), ord("[")):
            found = "map" if byte == ord("{") else "sequence"
            raise decoder.invalid_type(found, self.expecting)
        return decoder.value()

    def refuse(self, decoder: Decoder, kind: str, value: Any) -> JsonRejection:
        return decoder.invalid_type(_unexpected(kind, value), self.expecting)


class Text(Kind):
    expecting = "a string"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> str:
        if kind != "string":
            raise self.refuse(decoder, kind, value)
        return value


class Boolean(Kind):
    expecting = "a boolean"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> bool:
        if kind != "boolean":
            raise self.refuse(decoder, kind, value)
        return value


@dataclass(frozen=True)
class Unsigned(Kind):
    """``u32``/``u64``; ``visitor`` names a custom visitor that takes only a u64 (Iggy's
    expiry and topic size), which then refuses negative numbers as a type, not a value."""

    bits: int = 32
    visitor: str | None = None

    @property
    def expecting(self) -> str:  # type: ignore[override]
        return self.visitor or f"u{self.bits}"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> int:
        if kind != "integer" or (self.visitor and value < 0):
            raise self.refuse(decoder, kind, value)
        if not 0 <= value <= (_U32_MAX if self.bits == 32 else _U64_MAX):
            raise decoder.data(f"invalid value: integer `{value}`, expected u{self.bits}")
        return value


@dataclass(frozen=True)
class Variant(Kind):
    """A Rust enum of unit variants spelled as strings (``"active"``)."""

    name: str
    variants: tuple[str, ...]

    @property
    def expecting(self) -> str:  # type: ignore[override]
        return f"enum {self.name}"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> str:
        if kind != "string":
            raise self.refuse(decoder, kind, value)
        if value not in self.variants:
            raise decoder.data(f"unknown variant `{value}`, expected {_one_of(self.variants)}")
        return value


@dataclass(frozen=True)
class Parsed(Kind):
    """A string read through a parser whose error text becomes serde's custom error."""

    parse: Callable[[str], Any]
    expecting_text: str

    @property
    def expecting(self) -> str:  # type: ignore[override]
        return self.expecting_text

    def accept(self, decoder: Decoder, kind: str, value: Any) -> Any:
        if kind != "string":
            raise self.refuse(decoder, kind, value)
        try:
            return self.parse(value)
        except ValueError as error:
            raise decoder.data(str(error)) from None


class Base64(Kind):
    expecting = "a string"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> bytes:
        if kind != "string":
            raise self.refuse(decoder, kind, value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise decoder.data("Invalid symbol or padding") from None


@dataclass(frozen=True)
class Optional(Kind):
    """``Option<T>``: null is None, anything else is a T; an absent field is None too."""

    inner: Kind

    def read(self, decoder: Decoder) -> Any:
        if decoder.peek() == ord("n"):
            decoder.ident(b"null")
            return None
        return self.inner.read(decoder)


class AnyValue(Kind):
    """``serde_json::Value``: whatever is there."""

    def read(self, decoder: Decoder) -> Any:
        return decoder.value()[1]


class TextMap(Kind):
    """``BTreeMap<String, String>``."""

    expecting = "a map"

    def read(self, decoder: Decoder) -> dict[str, str]:
        if decoder.peek() != ord("{"):
            kind, value = self.scalar(decoder)
            raise self.refuse(decoder, kind, value)
        return dict(decoder.entries(lambda key: Text().read(decoder)))


@dataclass(frozen=True)
class Sequence(Kind):
    item: Kind

    expecting = "a sequence"

    def read(self, decoder: Decoder) -> list:
        if decoder.peek() != ord("["):
            kind, value = self.scalar(decoder)
            raise self.refuse(decoder, kind, value)
        return list(decoder.items(lambda index: self.item.read(decoder)))


class AnyValues(Kind):
    """``Vec<serde_json::Value>``, read whole by the C scanner (a send's messages: a
    large body), or value by value when only that finds serde's error."""

    def read(self, decoder: Decoder) -> list:
        if decoder.peek() == ord("["):
            values = decoder.scan()
            if values is not UNSCANNED:
                return values
        return Sequence(AnyValue()).read(decoder)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    default: Any = ...  # ... = required; ``optional`` gives an ``Optional`` field None


@dataclass(frozen=True)
class Struct(Kind):
    """A Rust struct: an object (or an array of the fields in order, as serde allows);
    unknown keys are skipped, missing ones reported in declaration order."""

    name: str
    fields: tuple[Field, ...]

    @property
    def expecting(self) -> str:  # type: ignore[override]
        return f"struct {self.name}"

    @cached_property
    def by_name(self) -> dict[str, Field]:
        """The fields by name, built on first use (a Struct never changes)."""
        return {f.name: f for f in self.fields}

    def read(self, decoder: Decoder) -> dict[str, Any]:
        byte = decoder.peek()
        if byte == ord("["):
            return self._from_sequence(decoder)
        if byte != ord("{"):
            kind, value = self.scalar(decoder)
            raise self.refuse(decoder, kind, value)
        by_name = self.by_name
        found: dict[str, Any] = {}

        def check_key(key: str) -> None:
            if key in found:
                raise decoder.data(f"duplicate field `{key}`")

        def read_value(key: str) -> Any:
            field = by_name.get(key)
            return field.kind.read(decoder) if field else AnyValue().read(decoder)

        for key, value in decoder.entries(read_value, check_key):
            if key in by_name:
                found[key] = value
        return self._complete(decoder, found)

    def _from_sequence(self, decoder: Decoder) -> dict[str, Any]:
        values = list(decoder.items(lambda index: (
            self.fields[index].kind.read(decoder) if index < len(self.fields)
            else AnyValue().read(decoder))))
        if len(values) < sum(1 for f in self.fields if f.default is ...):
            raise decoder.data(f"invalid length {len(values)}, expected {self.expecting} with "
                               f"{len(self.fields)} elements")
        return self._complete(decoder, dict(zip((f.name for f in self.fields), values,
                                                strict=False)))

    def _complete(self, decoder: Decoder, found: dict[str, Any]) -> dict[str, Any]:
        for field in self.fields:
            if field.name in found:
                continue
            if field.default is not ...:
                found[field.name] = field.default
            else:
                raise decoder.data(f"missing field `{field.name}`")
        return found


def _one_of(names: tuple[str, ...]) -> str:
    quoted = [f"`{name}`" for name in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} or {quoted[1]}"
    return "one of " + ", ".join(quoted)


def required(name: str, kind: Kind) -> Field:
    return Field(name, kind)


def optional(name: str, kind: Kind, default: Any = None) -> Field:
    return Field(name, kind if default is not None else Optional(kind), default)
