"""Room kept free on the disk for the server's own bookkeeping.

Messages are what fills a disk. If sends could take its last byte, nothing else could be
written either: not the metadata file (so not even the deletion of a stream that would free
space), not a consumer's offset. So a send is refused while it would leave less than a
reserve free: enough for two copies of the metadata file (the old one and its replacement)
and a few offset files. Free space is read from the file system at most twice a second, and
at once when the last reading says the reserve is near; a disk filled by something else is
still caught by the write itself.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

MIN_RESERVE = 256 * 1024  # bytes, on top of twice the metadata file
RECHECK_SECONDS = 0.5


class SpaceGuard:
    """Says whether a send of a given size leaves the reserve free on ``directory``'s disk."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.reserve = MIN_RESERVE
        self._free = 0
        self._read_at = float("-inf")

    def keep_room_for_metadata(self, metadata_bytes: int) -> None:
        self.reserve = MIN_RESERVE + 2 * metadata_bytes

    def claim(self, size: int) -> None:
        """Count ``size`` bytes as written; OSError(ENOSPC) when they would eat the reserve."""
        now = time.monotonic()
        if self._free - size < self.reserve or now - self._read_at > RECHECK_SECONDS:
            stats = os.statvfs(self.directory)
            self._free, self._read_at = stats.f_bavail * stats.f_frsize, now
        if self._free - size < self.reserve:
            raise OSError(errno.ENOSPC, "No space left on device: less than the "
                                        f"{self.reserve // 1024} KiB kept for metadata and "
                                        "offsets would remain")
        self._free -= size
