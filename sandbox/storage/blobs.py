"""The byte containers under a segment: a file, or a buffer for ``--in-memory``.

A send is acknowledged once ``append`` returns: for files that means the bytes are in the
kernel (``os.write``), which survives SIGKILL of the server. An append the disk refuses part
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

    def append(self, data: bytes | bytearray) -> int:
        position = self.size
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        except OSError:
            os.ftruncate(self.fd, position)
            raise
        self.size += len(data)
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

    def append(self, data: bytes | bytearray) -> int:
        position = len(self.data)
        self.data += data
        return position

    def read(self, position: int, length: int) -> bytes:
        return bytes(self.data[position:position + length])

    def truncate(self, size: int) -> None:
        del self.data[size:]

    def close(self) -> None:
        pass

    def delete(self) -> None:
        self.data = bytearray()
