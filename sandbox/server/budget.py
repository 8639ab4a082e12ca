"""A shared allowance of bytes for the large requests and replies in flight.

Each connection reads a whole frame into memory, and a reply waits in memory until the
client reads it. One runaway notebook (a loop of large sends on many clients, polls of huge
counts) could otherwise make the server hold any amount at once. Requests that may be large
take their size from this allowance before their body is read, and give it back once the
reply has left; when it is used up they wait their turn, so memory stays bounded while
small requests (pings, metadata, most sends and polls) never wait.
"""

from __future__ import annotations

import asyncio
from collections import deque


class ByteBudget:
    """``take`` waits until ``size`` bytes are free; ``give`` returns them."""

    def __init__(self, total: int):
        self.total = total
        self.free = total
        self._waiting: deque[asyncio.Future] = deque()

    def try_take(self, size: int) -> int | None:
        """``take`` without waiting: what was taken, or None when it would have to wait."""
        size = min(size, self.total)
        if self.free < size:
            return None
        self.free -= size
        return size

    async def take(self, size: int) -> int:
        """Reserve ``size`` bytes (at most the whole allowance); returns what was taken."""
        while (taken := self.try_take(size)) is None:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            finally:
                if turn in self._waiting:
                    self._waiting.remove(turn)
        return taken

    def give(self, size: int) -> None:
        self.free += size
        while self._waiting:  # everyone waiting looks again; who still does not fit waits on
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
