"""SDK results as plain JSON values, so two servers' answers can be written down and compared.

The SDK's result types are Rust objects with read-only properties (``StreamDetails.name``),
except ``ReceiveMessage``, whose fields are methods. Properties are read by name in sorted
order; enum variants become their name and fields (``{"MaxTopicSize.Custom": {"bytes":
1024}}``) or their ``repr`` (``UserStatus.Active``); durations become microseconds; bytes
become text when they are UTF-8, else hex.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apache_iggy import ReceiveMessage

# ReceiveMessage exposes methods, not properties; these are its fields.
MESSAGE_FIELDS = ("partition_id", "offset", "id", "timestamp", "origin_timestamp", "checksum",
                  "length", "payload", "user_headers")


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data (dicts, lists, str, int, float, bool, None)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return text_or_hex(value)
    if isinstance(value, timedelta):
        return {"microseconds": value // timedelta(microseconds=1)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return dict(sorted((_key(key), plain(item)) for key, item in value.items()))
    if isinstance(value, ReceiveMessage):
        return {name: plain(getattr(value, name)()) for name in MESSAGE_FIELDS}
    variant_fields = getattr(type(value), "__match_args__", None)
    if variant_fields is not None:  # a variant of an SDK enum: MaxTopicSize.Custom(bytes)
        return {type(value).__qualname__: {name: plain(getattr(value, name))
                                           for name in variant_fields}}
    properties = _property_names(type(value))
    if properties:
        return {name: plain(getattr(value, name)) for name in properties}
    scalar = getattr(value, "to_scalar_dict", None)  # UserHeaders
    if scalar is not None:
        return plain(scalar())
    return repr(value)


def _key(key: Any) -> str:
    """A dict key as text: ``HeaderKey.String("segment_size")`` becomes "segment_size"."""
    value = plain(key)
    if isinstance(value, dict) and len(value) == 1:
        (fields,) = value.values()
        if isinstance(fields, dict) and set(fields) == {"value"}:
            value = fields["value"]
    return str(value)


def _property_names(kind: type) -> list[str]:
    return sorted(name for name, attribute in vars(kind).items()
                  if type(attribute).__name__ == "getset_descriptor"
                  and not name.startswith("_"))


def text_or_hex(data: bytes) -> str:
    """``data`` as text when it is UTF-8, else as "hex:" and its hex digits."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return "hex:" + data.hex()
