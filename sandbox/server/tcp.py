"""The binary TCP front: read whole frames, dispatch, write replies.

Each connection (``sandbox.server.connection``) reads a 256-byte header, checks it (a frame
with an unknown command byte, or one that claims more than the size limit, closes that
connection with a log line before anything is allocated), reads the body, and answers in
lockstep. A command's error goes where the 0.9
protocol puts it: a result section for metadata and offset writes, the header status for
everything else. Nothing a client sends can stop the server or disturb other clients.

What one runaway notebook can make the server hold is bounded: a host may keep at most
``max_connections_per_host`` connections (more are answered CannotEstablishConnection, 9,
and closed); large requests and polls take their bytes from one shared budget before they
are read and give them back once the reply has left; a client that leaves a reply unread
for 30 s (the SDK's own reply timeout) is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import Counter
from collections.abc import Awaitable

from sandbox.commands.messages import POLL_MESSAGES
from sandbox.commands.registry import (
    COMMANDS,
    OPERATION_CODES,
    Command,
    Context,
    Payload,
    load_all,
)
from sandbox.errors import Code, IggyError
from sandbox.server.budget import ByteBudget
from sandbox.server.connection import Connection
from sandbox.server.login import register
from sandbox.state.messages import MAX_POLL_BYTES
from sandbox.state.model import Session
from sandbox.state.system import TRANSPORT_TCP, System
from sandbox.wire import framing
from sandbox.wire.codec import Reader

log = logging.getLogger("sandbox.tcp")

# Writes whose replies lead with a result section: metadata writes and offset writes.
# DeleteSegments (138) is neither: like a send, its error is in the header's status.
RESULT_FRAMED = (frozenset(range(128, 150)) - {138}) | {161, 162}
LEGACY_LOGIN_CODES = frozenset({38, 44})
STALE_AFTER = 36.0  # seconds without a request before a group member is evicted
MAX_CONNECTIONS_PER_HOST = 1000  # a classroom on one machine: 100 learners with 10 clients
IN_FLIGHT_BYTES = 256 * 1024 * 1024  # the budget shared by large requests and replies
BUDGET_FROM = 64 * 1024  # requests whose body, or poll reply, may be larger take from it
REFUSAL_WAIT = 10.0  # seconds a refused connection may take to send its first request
MAX_REFUSING = 64  # refused connections of one host answered at once; beyond, closed at once
REFUSAL_REPORT_INTERVAL = 60.0
_FAILED = struct.Struct("<III")


class TcpFront:
    """Serves the binary protocol for one ``System``."""

    def __init__(self, system: System, max_connections_per_host: int = MAX_CONNECTIONS_PER_HOST):
        load_all()
        self.system = system
        self.connections: dict[int, tuple[Session, asyncio.Transport]] = {}
        self.server: asyncio.Server | None = None
        self.budget = ByteBudget(IN_FLIGHT_BYTES)
        self.max_connections_per_host = max_connections_per_host
        self.per_host: Counter[str] = Counter()
        self.refusing: Counter[str] = Counter()
        self._refusals_reported: dict[str, tuple[float, int]] = {}  # host -> (when, since)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: Connection(self), host, port,
                                               reuse_address=True)
        return self.server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for _, transport in list(self.connections.values()):
                transport.close()
            await self.server.wait_closed()

    # ------------------------------------------------------------------ connections
    def opened(self, transport: asyncio.Transport) -> Session | None:
        """A new connection's session, or None when its host is over the limit (the
        transport then goes to a ``Refusal``)."""
        peer = transport.get_extra_info("peername") or ("?", 0)
        host = peer[0]
        if self.per_host[host] >= self.max_connections_per_host:
            refusal = Refusal(self, host)
            transport.set_protocol(refusal)
            refusal.connection_made(transport)
            return None
        self.per_host[host] += 1
        session = self.system.open_session(f"{host}:{peer[1]}", TRANSPORT_TCP)
        self.connections[session.client_id] = (session, transport)
        return session

    def closed(self, session: Session) -> None:
        host = session.address.rpartition(":")[0]
        self.per_host[host] -= 1
        if not self.per_host[host]:
            del self.per_host[host]
        transport = self.connections.pop(session.client_id, (None, None))[1]
        self.system.close_session(session)
        if transport is not None:
            transport.close()

    @staticmethod
    def budget_cost(header: framing.RequestHeader) -> int:
        """What a request takes from the budget before its body is read: 0 for the small
        ones, which never wait; a poll counts the largest reply it may get."""
        cost = header.body_size
        if header.operation == framing.OP_NON_REPLICATED and header.code == POLL_MESSAGES:
            cost += MAX_POLL_BYTES
        return cost if cost > BUDGET_FROM else 0

    def report_refusal(self, host: str) -> None:
        """One log line per host and minute, with how many were refused since the last."""
        now = time.monotonic()
        reported_at, since = self._refusals_reported.get(host, (float("-inf"), 0))
        if now - reported_at < REFUSAL_REPORT_INTERVAL:
            self._refusals_reported[host] = (reported_at, since + 1)
            return
        more = f" ({since} more refused since the last report)" if since else ""
        log.warning("refused a connection from %s: it already has %d open, the limit "
                    "(--max-connections-per-host)%s. A notebook that opens clients in a loop "
                    "should reuse one client.", host, self.max_connections_per_host, more)
        self._refusals_reported[host] = (now, 0)

    def answer(self, session: Session, header: framing.RequestHeader,
               body: bytes) -> bytes | Awaitable[bytes]:
        """The reply frame to one request; an awaitable of it for the few commands that
        wait (logins and password changes hash off the event loop)."""
        operation = header.operation
        if operation == framing.OP_REGISTER:
            if session.user_id is not None:
                self.system.drop_session_from_groups(session)
            return register(self.system, session, header, body)
        if operation == framing.OP_LOGOUT:
            if session.user_id is None:  # already logged out: Iggy answers ok
                return framing.reply_header(header, 0)
            self.system.drop_session_from_groups(session)
            session.user_id = None
            return framing.reply_header(header, 0)
        if operation == framing.OP_NON_REPLICATED:
            code = header.code
            if code in LEGACY_LOGIN_CODES:
                return framing.eviction(header.client, framing.EVICT_MALFORMED_LOGIN)
            command = COMMANDS.get(code)
            # Only ping works before login; any other code, even an unknown one, is 40
            if session.user_id is None and (command is None or command.needs_login):
                return framing.reply_header(header, 0, Code.UNAUTHENTICATED)
        else:
            code = OPERATION_CODES.get(operation)
            if code is None:
                return framing.reply_header(header, 0, Code.INVALID_COMMAND)
            if session.user_id is None:
                return framing.eviction(header.client, framing.EVICT_NO_SESSION)
            command = COMMANDS[code]
        if command is None:
            return framing.reply_header(header, 0, Code.INVALID_COMMAND)
        try:
            user = self.system.caller(session) if command.needs_login else None
            result = command.handler(Context(self.system, session, user), Reader(body))
        except IggyError as error:
            return self._error(header, error.code)
        except Exception:
            log.exception("command %s failed", command.name)
            return self._error(header, Code.ERROR)
        if command.is_async:
            return self._answer_later(header, command, result)
        return self._reply(header, result)

    async def _answer_later(self, header: framing.RequestHeader, command: Command,
                            result: Awaitable[Payload]) -> bytes:
        try:
            return self._reply(header, await result)
        except IggyError as error:
            return self._error(header, error.code)
        except Exception:
            log.exception("command %s failed", command.name)
            return self._error(header, Code.ERROR)

    @staticmethod
    def _reply(header: framing.RequestHeader, result: Payload) -> bytes:
        parts = result if isinstance(result, list) else [result]
        size = sum(map(len, parts))
        if header.operation in RESULT_FRAMED:
            return b"".join([framing.reply_header(header, 4 + size), b"\0\0\0\0", *parts])
        return b"".join([framing.reply_header(header, size), *parts])

    @staticmethod
    def _error(header: framing.RequestHeader, code: Code) -> bytes:
        if header.operation in RESULT_FRAMED and code not in (Code.UNAUTHENTICATED,
                                                              Code.UNAUTHORIZED):
            return framing.reply_header(header, _FAILED.size) + _FAILED.pack(1, 0, code)
        return framing.reply_header(header, 0, code)

    async def evict_stale_members(self, interval: float = 5.0) -> None:
        """Group members that stop talking lose their partitions (Iggy's stale-client rule)."""
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for session, transport in list(self.connections.values()):
                if session.groups and now - session.last_seen > STALE_AFTER:
                    log.info("evicting stale consumer-group member %s", session.address)
                    transport.write(framing.eviction(b"\x01" + bytes(15),
                                                     framing.EVICT_STALE_CLIENT))
                    self.system.drop_session_from_groups(session)
                    transport.close()


class Refusal(asyncio.Protocol):
    """A connection over its host's limit: its first request is answered
    CannotEstablishConnection (9), which the SDK shows as "Cannot establish connection", and
    the connection closes. It gets ``REFUSAL_WAIT`` seconds for that request's header, and
    as long again for its body."""

    def __init__(self, front: TcpFront, host: str):
        self.front = front
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.header: framing.RequestHeader | None = None
        self.counted = False
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        front, host = self.front, self.host
        front.report_refusal(host)
        if front.refusing[host] >= MAX_REFUSING:
            transport.close()
            return
        front.refusing[host] += 1
        self.counted = True
        self._wait()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            if self.header is None and len(self.buffer) >= framing.HEADER_SIZE:
                self.header = framing.parse_request_header(self.buffer)
                if self.header.body_size > BUDGET_FROM:
                    self.transport.close()
                    return
                self._wait()
        except framing.FrameError:
            self.transport.close()
            return
        if self.header is not None and len(self.buffer) >= self.header.size:
            self.transport.write(framing.reply_header(self.header, 0,
                                                      Code.CANNOT_ESTABLISH_CONNECTION))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        if self.counted:
            refusing = self.front.refusing
            refusing[self.host] -= 1
            if not refusing[self.host]:
                del refusing[self.host]

    def _wait(self) -> None:
        """(Re)start the clock: the client has ``REFUSAL_WAIT`` seconds for its next part."""
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = asyncio.get_running_loop().call_later(REFUSAL_WAIT, self.transport.close)
