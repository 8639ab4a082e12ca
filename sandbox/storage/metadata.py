"""The metadata file: streams, topics, partitions, groups, users and tokens as JSON.

It is the source of truth for everything but messages and offsets, so it is only ever
replaced whole: write a temporary file beside it, flush, fsync, ``os.replace``, fsync the
folder. A crash leaves either the old or the new file, never half of one; a write the disk
refuses (no space left) leaves the old file and no temporary one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "metadata.json"
FORMAT_VERSION = 1


class CorruptMetadata(RuntimeError):
    """The metadata file cannot be read; the server refuses to start (nothing is guessed)."""


def load(data_dir: Path) -> dict[str, Any] | None:
    """The saved metadata, or None on a first start."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise damaged(data_dir, str(error)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise CorruptMetadata(f"{path} is not a sandbox metadata file of format "
                              f"{FORMAT_VERSION}; use another --data-dir")
    return document


def damaged(data_dir: Path, problem: str) -> CorruptMetadata:
    """The refusal for a file that parses wrong: says which file, why, and what to do."""
    return CorruptMetadata(
        f"{data_dir / FILE_NAME} is damaged ({problem}). The sandbox will not start on it, so "
        "that no stream or user is silently lost. Restore it from a backup, or start empty: "
        f"delete {data_dir} or pass another --data-dir.")


def save(data_dir: Path, document: dict[str, Any]) -> int:
    """Replace the metadata file with ``document``; returns the file's size in bytes."""
    path = data_dir / FILE_NAME
    temporary = path.with_suffix(".tmp")
    payload = json.dumps({"format": FORMAT_VERSION, **document}, separators=(",", ":")).encode()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        written = 0
        while written < len(payload):
            written += os.write(fd, payload[written:])
        os.fsync(fd)
    except OSError:
        temporary.unlink(missing_ok=True)  # a refused write leaves no half file taking space
        raise
    finally:
        os.close(fd)
    os.replace(temporary, path)
    directory = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return len(payload)
