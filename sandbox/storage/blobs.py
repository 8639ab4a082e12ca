"""The byte containers under a segment: a file, or a buffer for ``--in-memory``.

A send is acknowledged once ``append`` returns: for files that means the bytes are in the
kernel (``os.writev``), which survives SIGKILL of the server. An append the disk refuses part
way (no space left) is cut back off the file, so the log never holds half a batch.
"""

from __future__ import annotations

import os
from pathlib import Path


class FileBlob:
    """An append-only file read with ``pread``."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self.fd).st_size

    def append(self, *parts: bytes | memoryview) -> int:
        """Write ``parts`` one after the other at the end (one ``writev``); returns where
        they begin."""
        position = self.size
        size = sum(map(len, parts))
        try:
            written = os.writev(self.fd, parts)
            if written < size:  # a short write (a disk filling up): the rest, or its error
                rest = memoryview(b"".join(parts))[written:]
                while rest:
                    rest = rest[os.write(self.fd, rest):]
        except OSError:
            os.ftruncate(self.fd, position)
            raise
        self.size += size
        return position

    def read(self, position: int, length: int) -> bytes:
        return os.pread(self.fd, length, position)

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        self.size = size

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


class MemoryBlob:
    """The same interface over a bytearray: nothing is kept after the process ends."""

    def __init__(self) -> None:
        self.data = bytearray()

    @property
    def size(self) -> int:
        return len(self.data)

    def append(self, *parts: bytes | memoryview) -> int:
        position = len(self.data)
        for part in parts:
            self.data += part
        return position

    def read(self, position: int, length: int) -> bytes:
        return bytes(self.data[position:position + length])

    def truncate(self, size: int) -> None:
        del self.data[size:]

    def close(self) -> None:
        pass

    def delete(self) -> None:
        self.data = bytearray()
