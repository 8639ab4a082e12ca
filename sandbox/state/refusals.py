"""Writes the disk refused: Iggy's error for the client, one log line for whoever runs the server.

A full disk (or any other write error) must not end in a traceback or a generic "Error":
the client gets the Iggy code for what could not be written, and the log says what was
refused and why in one line. A producer looping on a full disk would otherwise write a line
per attempt into a log that usually sits on that same disk, so after the first line the
refusals are counted and reported at most once a minute. The first write that succeeds again
says so, which is how a teacher sees that freeing space was enough (no restart needed).
"""

from __future__ import annotations

import errno
import logging
import time
from pathlib import Path

from sandbox.errors import Code, IggyError

log = logging.getLogger("sandbox.storage")

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
REPORT_INTERVAL = 60.0  # seconds between log lines while writes keep being refused


def is_disk_full(error: OSError) -> bool:
    return error.errno in NO_SPACE


class WriteRefusals:
    """Counts refused writes and reports them; ``refuse`` returns the error for the client."""

    def __init__(self, data_dir: Path | None, interval: float = REPORT_INTERVAL):
        self.data_dir = data_dir
        self.interval = interval
        self.refused = 0  # refusals since writes last succeeded
        self._unreported = 0
        self._reported_at = float("-inf")
        self._announced = False  # a refusal was logged since writes last succeeded

    def refuse(self, code: Code, what: str, error: OSError) -> IggyError:
        """Log (or count) one refused write of ``what``; the ``IggyError`` to raise."""
        self.refused += 1
        self._unreported += 1
        now = time.monotonic()
        if now - self._reported_at >= self.interval:
            earlier = self._unreported - 1
            also = f"; {earlier} more write(s) refused since the last report" if earlier else ""
            if is_disk_full(error):
                log.error("disk full: refused %s (%s, data in %s)%s. Reads still work; free "
                          "space there (delete streams, purge topics) and writes resume "
                          "without a restart", what, error.strerror, self.data_dir, also)
            else:
                log.error("write failed: refused %s (%s, data in %s)%s", what,
                          error.strerror or error, self.data_dir, also)
            self._reported_at, self._unreported, self._announced = now, 0, True
        return IggyError(code)

    def accepted(self) -> None:
        """A write succeeded: the first one after logged refusals is worth a log line."""
        if self.refused:
            if self._announced:
                log.info("writes to %s succeed again (%d refused while they failed)",
                         self.data_dir, self.refused)
            self.refused, self._announced = 0, False
