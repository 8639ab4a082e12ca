"""One client connection of the binary protocol: whole frames in, replies out, in turn.

An asyncio ``Protocol`` rather than a stream reader: a frame that arrived whole is answered
in the callback that received it, without a task switch or another turn of the event loop,
which is most of what a small request costs in Python. Whatever has to wait (its share of
the byte budget, a command that hashes a password, a client that leaves its replies unread)
waits in a task, and no further frame is started until it is done, so replies keep the
order of the requests. Frames that arrived before the client hung up are still answered
(their effects happen, as on Iggy); the replies go nowhere.

Reading stops while more than ``READ_AHEAD`` bytes beyond what the current frame needs sit
unread, so a client cannot make the server hold more than it sent for a reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from sandbox.state.model import Session
from sandbox.wire import framing

if TYPE_CHECKING:
    from sandbox.server.tcp import TcpFront

log = logging.getLogger("sandbox.tcp")

READ_AHEAD = 64 * 1024  # bytes of a client's next frames read before they are asked for
DRAIN_ABOVE = 64 * 1024  # unsent reply bytes after which a connection waits for its client
UNREAD_REPLY_TIMEOUT = 30.0  # seconds; the SDK itself gives up on a reply after 30 s


class Incoming:
    """Bytes received and not yet taken, kept as the chunks they arrived in: a frame that
    came in one chunk is taken as a view of it, without a copy, and one that came in many is
    copied once, when it is whole."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.start = 0  # where the untaken bytes of the first chunk begin
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)

    def take(self, n: int) -> bytes | memoryview:
        """The next ``n`` bytes (there must be as many)."""
        first, start = self.chunks[0], self.start
        self.size -= n
        if start + n < len(first):
            self.start = start + n
            return memoryview(first)[start:start + n]
        if start + n == len(first):
            self.chunks.popleft()
            self.start = 0
            return memoryview(first)[start:] if start else first
        parts = []
        while n:
            first, start = self.chunks[0], self.start
            part = memoryview(first)[start:start + n]
            parts.append(part)
            n -= len(part)
            if start + len(part) == len(first):
                self.chunks.popleft()
                self.start = 0
            else:
                self.start = start + len(part)
        return b"".join(parts)


class Connection(asyncio.Protocol):
    """Reads frames from one client and hands them to the front, one at a time."""

    def __init__(self, front: TcpFront):
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None  # None once the connection is let go of
        self.address = "?"
        self.buffer = Incoming()
        self.header: framing.RequestHeader | None = None  # the frame whose body is awaited
        self.held = 0  # budget bytes held until the current frame's reply has left
        self.task: asyncio.Task | None = None  # what the connection waits for, if anything
        self.lost = False  # the client hung up: answer what arrived whole, then clean up
        self.stopped = False  # the server hung up: answer nothing more
        self.reading_paused = False
        self.writing_paused = False
        self._writable: asyncio.Future | None = None

    # ------------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=DRAIN_ABOVE)
        self.session = self.front.opened(transport)
        if self.session is not None:
            self.address = self.session.address

    def data_received(self, data: bytes) -> None:
        self.buffer.add(data)
        if self.task is None:
            self._serve()
        self._limit_reading()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.resume_writing()  # a reply waiting to be read never will be
        if self.task is None:
            self._serve()  # nothing left to answer: this cleans up

    # ------------------------------------------------------------------ frames
    def _serve(self) -> None:
        """Answer every frame the buffer holds whole, until one has to wait."""
        while self.task is None and not self.stopped:
            if self.header is None and not self._start_frame():
                break
            header = self.header
            size = header.body_size
            if len(self.buffer) < size:
                break
            body = self.buffer.take(size) if size else b""
            self.header = None
            self._answer(header, body)
        if self.lost and self.task is None:
            self._close()

    def _start_frame(self) -> bool:
        """Take the next header off the buffer and the frame's share of the budget; False
        while there is no whole header, or the frame waits for its share."""
        if len(self.buffer) < framing.HEADER_SIZE:
            return False
        try:
            header = framing.parse_request_header(self.buffer.take(framing.HEADER_SIZE))
        except framing.FrameError as error:
            log.warning("closing %s: %s", self.address, error)
            self._stop()
            return False
        self.header = header
        cost = self.front.budget_cost(header)
        if cost:
            taken = self.front.budget.try_take(cost)
            if taken is None:
                self._wait_for(self._take_budget(cost))
                return False
            self.held = taken
        return True

    async def _take_budget(self, cost: int) -> None:
        self.held = await self.front.budget.take(cost)

    def _answer(self, header: framing.RequestHeader, body: bytes | memoryview) -> None:
        if not header.is_request:
            log.warning("dropping a frame with command %d from %s: not a request",
                        header.command, self.address)
            self._release()
            return
        self.session.last_seen = time.monotonic()
        reply = self.front.answer(self.session, header, body)
        if isinstance(reply, bytes):
            self._send(reply)
        else:
            self._wait_for(self._send_when_ready(reply))

    async def _send_when_ready(self, reply: Awaitable[bytes]) -> None:
        self._send(await reply)

    def _send(self, reply: bytes) -> None:
        """Hand a reply to the socket; its frame's budget comes back once it has left."""
        if self.lost:
            self._release()
            return
        self.transport.write(reply)
        if self.writing_paused:
            self._wait_for(self._drain())
        else:
            self._release()

    async def _drain(self) -> None:
        """Wait until the client has read most of what it was sent (the transport's low-water
        mark), for at most ``UNREAD_REPLY_TIMEOUT``."""
        try:
            if self.writing_paused:
                self._writable = asyncio.get_running_loop().create_future()
                await asyncio.wait_for(self._writable, UNREAD_REPLY_TIMEOUT)
        except TimeoutError:
            log.warning("closing %s: it left a reply unread for %g s", self.address,
                        UNREAD_REPLY_TIMEOUT)
            self._stop(discard_replies=True)
        finally:
            self._writable = None
            self._release()

    # ------------------------------------------------------------------ waiting
    def _wait_for(self, step: Awaitable[None]) -> None:
        """Run ``step`` in a task; frames after it wait until it is done."""
        self.task = asyncio.ensure_future(self._then_serve(step))

    async def _then_serve(self, step: Awaitable[None]) -> None:
        try:
            await step
        except Exception:
            log.exception("closing %s: answering a request failed", self.address)
            self._stop()
        finally:
            self.task = None
        self._serve()
        self._limit_reading()

    def _release(self) -> None:
        if self.held:
            self.front.budget.give(self.held)
            self.held = 0

    def _limit_reading(self) -> None:
        """Read on while the buffer holds at most READ_AHEAD bytes beyond what the frame being
        read still needs (nothing, while it waits for its share of the budget)."""
        if self.lost or self.stopped:
            return
        needed = self.header.body_size if self.header is not None and self.task is None else 0
        over = len(self.buffer) > needed + READ_AHEAD
        if over != self.reading_paused:
            self.reading_paused = over
            if over:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    # ------------------------------------------------------------------ the end
    def _stop(self, discard_replies: bool = False) -> None:
        """The server ends the connection: nothing more is read or answered. Replies not yet
        sent still go out first, unless the client is not reading them anyway."""
        self.stopped = True
        if discard_replies:
            self.transport.abort()
        else:
            self.transport.close()
        self._close()

    def _close(self) -> None:
        """The connection is gone and nothing is left to answer: let go of it (once)."""
        if self.session is None:
            return
        if self.buffer and not self.stopped:
            log.info("client %s closed mid-frame (%d bytes read)", self.address,
                     len(self.buffer))
        self._release()
        self.front.closed(self.session)
        self.session = None
