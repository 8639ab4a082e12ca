"""The 0.9.0 topic option catalog: which keys create and update accept, how each value
parses, and the bounds the real server enforces before it creates anything.

A value may come typed (``Uint64`` for ``segment_size``) or as a String the server parses
("128 MiB", "7 days", "true"): the Python SDK sends ``options={...}`` as strings. Create
stores every key the client named in its canonical kind with its resolved value; update
stores the client's bytes as sent (Iggy does the same), and only three keys may change.
"""

from __future__ import annotations

import struct

from sandbox.errors import Code, IggyError
from sandbox.state import units
from sandbox.state.model import COMPRESSION_GZIP, COMPRESSION_NONE, DEFAULT_SEGMENT_SIZE, U64_MAX
from sandbox.wire.codec import BOOL, STRING, UINT32, UINT64

UINT8 = 9
Options = dict[str, tuple[int, bytes]]

# Update may only patch these; the rest describe how partitions were laid down
UPDATABLE_KEYS = frozenset({"compression_algorithm", "message_expiry", "max_topic_size"})
DURABILITY_VALUES = ("replicated", "persisted")
COMPRESSION_NAMES = {"none": COMPRESSION_NONE, "gzip": COMPRESSION_GZIP}

MIN_SEGMENT_SIZE = 1024 * 1024
MAX_SEGMENT_SIZE = 1024 * 1024 * 1024
MAX_MESSAGES_REQUIRED_TO_SAVE = 16 * 1024 * 1024
MAX_SIZE_OF_MESSAGES_REQUIRED_TO_SAVE = 1024 * 1024 * 1024
MAX_PREALLOCATED_TOPIC_BYTES = 64 * 1024 * 1024 * 1024

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
# The catalog: key -> (canonical kind, default). Create stores a key the client named in its
# canonical kind; DescribeOptions and the derived block report the defaults.
_DEFAULTS: Options = {
    "compression_algorithm": (STRING, b"none"),
    "message_expiry": (UINT64, _U64.pack(U64_MAX)),
    "max_topic_size": (UINT64, _U64.pack(U64_MAX)),
    "segment_size": (UINT64, _U64.pack(DEFAULT_SEGMENT_SIZE)),
    "messages_required_to_save": (UINT32, _U32.pack(1024)),
    "size_of_messages_required_to_save": (UINT64, _U64.pack(1024 * 1024)),
    "preallocate_segments": (BOOL, b"\x00"),
    "durability": (STRING, b"replicated"),
    "consumer_offset_durability": (STRING, b"replicated"),
}
# A parsed 0 for these means "server default": the key resolves as if it were absent
_ZERO_IS_DEFAULT = frozenset({"message_expiry", "max_topic_size", "segment_size",
                              "size_of_messages_required_to_save"})


def derived_topic_options(explicit: Options) -> Options:
    """Catalog keys the client did not set, resolved from the server's defaults."""
    return {key: value for key, value in _DEFAULTS.items() if key not in explicit}


def parse(options: Options, allowed: frozenset[str] | None = None) -> dict[str, object]:
    """The parsed value of each key (sentinel zeros dropped: they mean "server default").

    Unknown keys are UnsupportedOptionKey (4041); a wrong kind, an unparsable string or a
    value out of bounds is InvalidOptionValue (4042).
    """
    values: dict[str, object] = {}
    for key, (kind, raw) in options.items():
        if key not in _DEFAULTS or allowed is not None and key not in allowed:
            raise IggyError(Code.UNSUPPORTED_OPTION_KEY, key)
        try:
            value = _PARSERS[key](kind, raw)
        except (ValueError, UnicodeDecodeError, KeyError, struct.error):
            raise IggyError(Code.INVALID_OPTION_VALUE, key) from None
        if key in _ZERO_IS_DEFAULT and value == 0:
            continue
        values[key] = value
    _check_bounds(values)
    return values


def check_creatable(settings: dict[str, object], partitions_count: int) -> None:
    """What create refuses before touching anything: segment bounds, the preallocation cap
    and a size cap below one segment."""
    segment_size = settings.get("segment_size", DEFAULT_SEGMENT_SIZE)
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE or segment_size % 512:
        raise IggyError(Code.INVALID_OPTION_VALUE, "segment_size")
    if (settings.get("preallocate_segments")
            and segment_size * partitions_count > MAX_PREALLOCATED_TOPIC_BYTES):
        raise IggyError(Code.INVALID_OPTION_VALUE, "preallocate_segments")
    check_size_floor(settings, segment_size)


def check_size_floor(settings: dict[str, object], segment_size: int) -> None:
    """A topic capped below one segment could never rotate: InvalidTopicSize (1019)."""
    max_topic_size = settings.get("max_topic_size")
    if max_topic_size is not None and max_topic_size < segment_size:
        raise IggyError(Code.INVALID_TOPIC_SIZE, units.human_size(max_topic_size),
                        units.human_size(segment_size))


def canonical(options: Options, settings: dict[str, object]) -> Options:
    """The keys the client named, each in its canonical kind with its resolved value."""
    stored: Options = {}
    for key in options:
        kind, default = _DEFAULTS[key]
        value = settings.get(key)
        if value is None:
            stored[key] = (kind, default)
        elif key == "compression_algorithm":
            stored[key] = (STRING, _compression_name(value).encode())
        elif kind == STRING:
            stored[key] = (STRING, value.encode())
        elif kind == BOOL:
            stored[key] = (BOOL, bytes([value]))
        else:
            stored[key] = (kind, (_U32 if kind == UINT32 else _U64).pack(value))
    return stored


def _compression_name(code: int) -> str:
    return next(name for name, known in COMPRESSION_NAMES.items() if known == code)


def _check_bounds(values: dict[str, object]) -> None:
    count = values.get("messages_required_to_save")
    if count is not None and not 1 <= count <= MAX_MESSAGES_REQUIRED_TO_SAVE:
        raise IggyError(Code.INVALID_OPTION_VALUE, "messages_required_to_save")
    size = values.get("size_of_messages_required_to_save")
    if size is not None and size > MAX_SIZE_OF_MESSAGES_REQUIRED_TO_SAVE:
        raise IggyError(Code.INVALID_OPTION_VALUE, "size_of_messages_required_to_save")


# ---------------------------------------------------------------------------- value parsers
# Each takes (kind, raw bytes) and returns the value or raises ValueError.
def _text(kind: int, raw: bytes) -> str:
    if kind != STRING:
        raise ValueError("expected a string")
    return raw.decode("utf-8")


def _uint(kind: int, raw: bytes, typed: int, parse_text) -> int:
    if kind == typed:
        return int.from_bytes(raw, "little")
    return parse_text(_text(kind, raw))


def _u32_text(text: str) -> int:
    if not text.lstrip("+").isdigit() or int(text) > 2**32 - 1:
        raise ValueError(text)
    return int(text)


def _expiry(text: str) -> int:
    if text in ("unlimited", "none", "None", "Unlimited", "never_expire"):
        return U64_MAX
    if text in ("default", "server_default", "Default", "Server_default"):
        return 0
    micros = units.duration_micros(text)
    if micros // 1_000_000 > 2**32 - 1:
        raise ValueError("expiry too long")
    return micros


def _max_topic_size(text: str) -> int:
    if text == "unlimited":
        return U64_MAX
    if text in ("0", "server_default"):
        return 0
    return units.byte_size(text)


def _compression(kind: int, raw: bytes) -> int:
    if kind == UINT8:
        if raw[0] not in COMPRESSION_NAMES.values():
            raise ValueError("unknown compression code")
        return raw[0]
    return COMPRESSION_NAMES[_text(kind, raw).lower()]


def _bool(kind: int, raw: bytes) -> bool:
    if kind == BOOL:
        if raw not in (b"\x00", b"\x01"):
            raise ValueError("bool must be 0 or 1")
        return raw == b"\x01"
    return {"true": True, "false": False}[_text(kind, raw)]


def _durability(kind: int, raw: bytes) -> str:
    value = _text(kind, raw).lower()
    if value not in DURABILITY_VALUES:
        raise ValueError(value)
    return value


_PARSERS = {
    "compression_algorithm": _compression,
    "message_expiry": lambda kind, raw: _uint(kind, raw, UINT64, _expiry),
    "max_topic_size": lambda kind, raw: _uint(kind, raw, UINT64, _max_topic_size),
    "segment_size": lambda kind, raw: _uint(kind, raw, UINT64, units.byte_size),
    "messages_required_to_save": lambda kind, raw: _uint(kind, raw, UINT32, _u32_text),
    "size_of_messages_required_to_save":
        lambda kind, raw: _uint(kind, raw, UINT64, units.byte_size),
    "preallocate_segments": _bool,
    "durability": _durability,
    "consumer_offset_durability": _durability,
}
