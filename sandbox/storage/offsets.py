"""Stored consumer offsets: one 8-byte file per consumer and partition.

An offset is overwritten in place with a single ``pwrite`` of 8 bytes, which a process
crash cannot tear, so a stored offset never goes backwards or half-way after SIGKILL.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

_U64 = struct.Struct("<Q")
KIND_NAMES = {1: "consumer", 2: "group"}
_KEEP_OPEN = 32  # offset files kept open, over all partitions


class _OpenFiles:
    """The offset files written last, kept open: a poll with auto_commit stores an offset
    every time, and then that is one ``pwrite`` instead of open, write and close."""

    def __init__(self) -> None:
        self.fds: dict[str, int] = {}

    def fd(self, path: str) -> int:
        fd = self.fds.pop(path, None)
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            if len(self.fds) >= _KEEP_OPEN:
                os.close(self.fds.pop(next(iter(self.fds))))
        self.fds[path] = fd  # (re)inserted last: the dict's order is the LRU order
        return fd

    def close(self, path: str) -> None:
        fd = self.fds.pop(path, None)
        if fd is not None:
            os.close(fd)


_OPEN = _OpenFiles()


class OffsetFiles:
    """The offsets of one partition, kept in ``<partition folder>/offsets``."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._names: dict[tuple[int, int], str] = {}  # paths written to so far

    def _path(self, kind: int, key: int) -> Path:
        return self.directory / f"{KIND_NAMES[kind]}-{key}"

    def load(self) -> dict[tuple[int, int], int]:
        if self.directory is None or not self.directory.exists():
            return {}
        stored = {}
        codes = {name: kind for kind, name in KIND_NAMES.items()}
        for path in self.directory.iterdir():
            name, _, key = path.name.partition("-")
            data = path.read_bytes()
            if name in codes and key.isdigit() and len(data) == _U64.size:
                stored[(codes[name], int(key))] = _U64.unpack(data)[0]
        return stored

    def store(self, kind: int, key: int, offset: int) -> None:
        if self.directory is None:
            return
        name = self._names.get((kind, key))
        if name is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = self._names[(kind, key)] = str(self._path(kind, key))
        try:
            fd = _OPEN.fd(name)
        except FileNotFoundError:  # the folder went away since: make it again
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = _OPEN.fd(name)
        os.pwrite(fd, _U64.pack(offset), 0)

    def delete(self, kind: int, key: int) -> None:
        if self.directory is not None:
            _OPEN.close(self._names.pop((kind, key), ""))
            self._path(kind, key).unlink(missing_ok=True)

    def clear(self) -> None:
        self.close()
        if self.directory is not None and self.directory.exists():
            for path in self.directory.iterdir():
                path.unlink()

    def close(self) -> None:
        """Let go of the open files (the partition is closed or deleted)."""
        for name in self._names.values():
            _OPEN.close(name)
        self._names.clear()
