"""The binary TCP front: read whole frames, dispatch, write replies.

Each connection reads a 256-byte header, checks it (a frame that is not a request, or
claims more than the size limit, closes that connection with a log line before anything is
allocated), reads the body, and answers in lockstep. A command's error goes where the 0.9
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

from sandbox.commands.messages import POLL_MESSAGES
from sandbox.commands.registry import COMMANDS, OPERATION_CODES, Context, load_all
from sandbox.errors import Code, IggyError
from sandbox.server.budget import ByteBudget
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
DRAIN_ABOVE = 64 * 1024  # unsent reply bytes after which a connection waits for its client
READ_AHEAD = 64 * 1024  # bytes of a client's next frames read before they are asked for
UNREAD_REPLY_TIMEOUT = 30.0  # seconds; the SDK itself gives up on a reply after 30 s
REFUSAL_WAIT = 10.0  # seconds a refused connection may take to send its first request
MAX_REFUSING = 64  # refused connections of one host answered at once; beyond, closed at once
REFUSAL_REPORT_INTERVAL = 60.0
_FAILED = struct.Struct("<III")


class TcpFront:
    """Serves the binary protocol for one ``System``."""

    def __init__(self, system: System, max_connections_per_host: int = MAX_CONNECTIONS_PER_HOST):
        load_all()
        self.system = system
        self.connections: dict[int, tuple[Session, asyncio.StreamWriter]] = {}
        self.server: asyncio.Server | None = None
        self.budget = ByteBudget(IN_FLIGHT_BYTES)
        self.max_connections_per_host = max_connections_per_host
        self.per_host: Counter[str] = Counter()
        self.refusing: Counter[str] = Counter()
        self._refusals_reported: dict[str, tuple[float, int]] = {}  # host -> (when, since)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self.serve, host, port, limit=READ_AHEAD,
                                                 reuse_address=True)
        return self.server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for _, writer in list(self.connections.values()):
                writer.close()
            await self.server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        host = peer[0]
        if self.per_host[host] >= self.max_connections_per_host:
            await self.refuse(host, reader, writer)
            return
        self.per_host[host] += 1
        session = self.system.open_session(f"{host}:{peer[1]}", TRANSPORT_TCP)
        self.connections[session.client_id] = (session, writer)
        try:
            while True:
                header = framing.parse_request_header(await reader.readexactly(
                    framing.HEADER_SIZE))
                await self.exchange(session, header, reader, writer)
        except asyncio.IncompleteReadError as error:
            if error.partial:
                log.info("client %s closed mid-frame (%d bytes read)", session.address,
                         len(error.partial))
        except framing.FrameError as error:
            log.warning("closing %s: %s", session.address, error)
        except TimeoutError:
            log.warning("closing %s: it left a reply unread for %g s", session.address,
                        UNREAD_REPLY_TIMEOUT)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.per_host[host] -= 1
            if not self.per_host[host]:
                del self.per_host[host]
            self.connections.pop(session.client_id, None)
            self.system.close_session(session)
            writer.close()

    async def exchange(self, session: Session, header: framing.RequestHeader,
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request's body, answer it and hand the reply to the socket; a request
        that may be large holds its share of the budget until its reply has left."""
        cost = header.body_size
        if header.operation == framing.OP_NON_REPLICATED and header.code == POLL_MESSAGES:
            cost += MAX_POLL_BYTES
        held = await self.budget.take(cost) if cost > BUDGET_FROM else 0
        try:
            body = await reader.readexactly(header.body_size) if header.body_size else b""
            if not header.is_request:
                log.warning("dropping a frame with command %d from %s: not a request",
                            header.command, session.address)
                return
            session.last_seen = time.monotonic()
            writer.write(await self.answer(session, header, body))
            if writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
                await asyncio.wait_for(writer.drain(), UNREAD_REPLY_TIMEOUT)
        finally:
            if held:
                self.budget.give(held)

    async def refuse(self, host: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        """A connection over its host's limit: its first request is answered
        CannotEstablishConnection (9), which the SDK shows as "Cannot establish
        connection", and the connection closes."""
        self._report_refusal(host)
        if self.refusing[host] >= MAX_REFUSING:
            writer.close()
            return
        self.refusing[host] += 1
        try:
            header = framing.parse_request_header(await asyncio.wait_for(
                reader.readexactly(framing.HEADER_SIZE), REFUSAL_WAIT))
            if header.body_size <= BUDGET_FROM:
                await asyncio.wait_for(reader.readexactly(header.body_size), REFUSAL_WAIT)
                writer.write(framing.reply_header(header, 0, Code.CANNOT_ESTABLISH_CONNECTION))
                await asyncio.wait_for(writer.drain(), REFUSAL_WAIT)
        except (asyncio.IncompleteReadError, framing.FrameError, ConnectionError,
                TimeoutError):
            pass
        finally:
            self.refusing[host] -= 1
            if not self.refusing[host]:
                del self.refusing[host]
            writer.close()

    def _report_refusal(self, host: str) -> None:
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

    async def answer(self, session: Session, header: framing.RequestHeader,
                     body: bytes) -> bytes:
        operation = header.operation
        if operation == framing.OP_REGISTER:
            if session.user_id is not None:
                self.system.drop_session_from_groups(session)
            return await register(self.system, session, header, body)
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
            if command.is_async:
                result = await result
        except IggyError as error:
            return self._error(header, error.code)
        except Exception:
            log.exception("command %s failed", command.name)
            return self._error(header, Code.ERROR)
        if operation in RESULT_FRAMED:
            return framing.reply_header(header, 4 + len(result)) + b"\0\0\0\0" + result
        return framing.reply_header(header, len(result)) + result

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
            for session, writer in list(self.connections.values()):
                if session.groups and now - session.last_seen > STALE_AFTER:
                    log.info("evicting stale consumer-group member %s", session.address)
                    writer.write(framing.eviction(b"\x01" + bytes(15),
                                                  framing.EVICT_STALE_CLIENT))
                    self.system.drop_session_from_groups(session)
                    writer.close()
