"""The binary TCP front: read whole frames, dispatch, write replies.

Each connection reads a 256-byte header, checks it (a frame that is not a request, or
claims more than the size limit, closes that connection with a log line before anything is
allocated), reads the body, and answers in lockstep. A command's error goes where the 0.9
protocol puts it: a result section for metadata and offset writes, the header status for
everything else. Nothing a client sends can stop the server or disturb other clients.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from sandbox.commands.registry import COMMANDS, OPERATION_CODES, Context, load_all
from sandbox.errors import Code, IggyError
from sandbox.server.login import register
from sandbox.state.model import Session
from sandbox.state.system import TRANSPORT_TCP, System
from sandbox.wire import framing
from sandbox.wire.codec import Reader

log = logging.getLogger("sandbox.tcp")

RESULT_FRAMED = frozenset(range(128, 150)) | {161, 162}
LEGACY_LOGIN_CODES = frozenset({38, 44})
STALE_AFTER = 36.0  # seconds without a request before a group member is evicted
_FAILED = struct.Struct("<III")


class TcpFront:
    """Serves the binary protocol for one ``System``."""

    def __init__(self, system: System):
        load_all()
        self.system = system
        self.connections: dict[int, tuple[Session, asyncio.StreamWriter]] = {}
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self.serve, host, port, limit=2**20,
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
        session = self.system.open_session(f"{peer[0]}:{peer[1]}", TRANSPORT_TCP)
        self.connections[session.client_id] = (session, writer)
        try:
            while True:
                header = framing.parse_request_header(await reader.readexactly(
                    framing.HEADER_SIZE))
                body = await reader.readexactly(header.body_size) if header.body_size else b""
                if not header.is_request:
                    log.warning("dropping a frame with command %d from %s: not a request",
                                header.command, session.address)
                    continue
                session.last_seen = time.monotonic()
                writer.write(await self.answer(session, header, body))
                if writer.transport.get_write_buffer_size() > 2**20:
                    await writer.drain()
        except asyncio.IncompleteReadError as error:
            if error.partial:
                log.info("client %s closed mid-frame (%d bytes read)", session.address,
                         len(error.partial))
        except framing.FrameError as error:
            log.warning("closing %s: %s", session.address, error)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.pop(session.client_id, None)
            self.system.close_session(session)
            writer.close()

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
