"""Human-written sizes and durations, read the way Iggy 0.9 reads option strings.

The SDK sends ``create_topic(options={"segment_size": "128 MiB"})`` as a String value and
the server parses it (byte sizes like the ``byte-unit`` crate, durations like
``humantime``), so the sandbox must accept the same spellings. Both raise ``ValueError``;
the caller turns that into InvalidOptionValue for the key.
"""

from __future__ import annotations

import re
from decimal import Decimal

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtpez]?)(i?)(bit|b)?", re.IGNORECASE)
_PREFIX_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6, "z": 7}
_TOKEN = re.compile(r"\s*(\d+)\s*([a-zA-Zµ]+)")
_SECOND = 1_000_000
_UNIT_MICROS = {
    **dict.fromkeys(("nsec", "ns", "nanos"), Decimal("0.001")),
    **dict.fromkeys(("usec", "us", "µs", "micros"), 1),
    **dict.fromkeys(("msec", "ms", "millis"), 1_000),
    **dict.fromkeys(("seconds", "second", "secs", "sec", "s"), _SECOND),
    **dict.fromkeys(("minutes", "minute", "mins", "min", "m"), 60 * _SECOND),
    **dict.fromkeys(("hours", "hour", "hrs", "hr", "h"), 3_600 * _SECOND),
    **dict.fromkeys(("days", "day", "d"), 86_400 * _SECOND),
    **dict.fromkeys(("weeks", "week", "wk", "w"), 604_800 * _SECOND),
    **dict.fromkeys(("months", "month", "M"), 2_630_016 * _SECOND),
    **dict.fromkeys(("years", "year", "yr", "y"), 31_557_600 * _SECOND),
}
U64_MAX = 2**64 - 1


def byte_size(text: str) -> int:
    """``"512"``, ``"10 KB"`` (10 000), ``"128 MiB"``, ``"1.5GB"``; "unlimited"/"none" = 0."""
    text = text.strip()
    if text in ("0", "unlimited", "Unlimited", "none", "None"):
        return 0
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a byte size: {text!r}")
    number, prefix, binary, base = match.groups()
    if binary and not prefix:
        raise ValueError(f"not a byte size: {text!r}")
    multiplier = (1024 if binary else 1000) ** _PREFIX_POWER[prefix.lower()]
    value = Decimal(number) * multiplier
    if base and base.lower() == "bit":
        value /= 8
    if value > U64_MAX:
        raise ValueError(f"byte size too large: {text!r}")
    return int(value)


def duration_micros(text: str) -> int:
    """``"15min"``, ``"7 days"``, ``"1h 30m"`` in microseconds."""
    position, total, rest = 0, Decimal(0), text.strip()
    if not rest:
        raise ValueError("empty duration")
    while position < len(rest):
        match = _TOKEN.match(rest, position)
        if match is None:
            raise ValueError(f"not a duration: {text!r}")
        number, unit = match.groups()
        factor = _UNIT_MICROS.get(unit)
        if factor is None:
            raise ValueError(f"unknown time unit {unit!r} in {text!r}")
        total += int(number) * factor
        position = match.end()
    return int(total)


# Largest first, as byte-unit tries them: a binary unit before the decimal one just below it.
_UNITS = tuple((name, (1024 if name.endswith("iB") else 1000) ** power)
               for power, prefix in ((6, "E"), (5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "K"))
               for name in (f"{prefix}iB", f"{prefix}B"))


def human_byte_size(size: int) -> str:
    """A byte count the way Iggy writes sizes in JSON (byte-unit's ``{:#}``): in the largest
    unit that shows it exactly with at most three decimals, e.g. ``69092`` → "69.092 KB",
    ``3211776`` → "3136.5 KiB", ``1000`` → "1 KB", ``999`` → "999 B"."""
    for name, unit in _UNITS:
        if size >= unit and size * 1000 % unit == 0:
            return f"{(Decimal(size) / unit).normalize():f} {name}"
    return f"{size} B"


def human_size(size: int) -> str:
    """A byte count the way Iggy prints one in messages (``IggyByteSize``'s Display): two
    decimals in the largest decimal unit it reaches, e.g. "1.05 MB", "1.07 GB", "512 B"."""
    for name, unit in _UNITS:
        if name.endswith("iB") or size < unit:
            continue
        return f"{size / unit:.2f} {name}"
    return f"{size} B"
