"""A server that answers the SDK as fast as Python can, storing nothing.

It accepts any login, acknowledges every send without looking at it, and answers every poll
with the same pre-built batch. Measured beside the sandbox it shows the SDK's own ceiling
on this machine, so the benchmark can print a ratio instead of a bare number.

Run: ``python -m bench.null_responder --tcp 127.0.0.1:0`` (prints ``ready tcp=HOST:PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import struct

from sandbox.wire import framing
from sandbox.wire.messages import BATCH_FIELDS, BATCH_HEADER_SIZE

CODE_SEND, CODE_POLL = 101, 100
OP_SEND = 160


def canned_batch(count: int, payload_size: int) -> bytes:
    """A stored-looking batch of ``count`` messages (checksums are not verified on poll)."""
    frames = bytearray()
    for i in range(count):
        frames += struct.pack("<Q16sIIIIQ", 0, (i + 1).to_bytes(16, "little"), i, 0, 0,
                              payload_size, 0)
        frames += b"x" * payload_size
    header = bytearray(BATCH_HEADER_SIZE)
    BATCH_FIELDS.pack_into(header, 0, 0, 0, 1, 1, BATCH_HEADER_SIZE + len(frames), 0, count)
    return bytes(header) + bytes(frames)


class NullResponder:
    def __init__(self, poll_count: int, payload_size: int):
        batch = canned_batch(poll_count, payload_size)
        self.poll_body = struct.pack("<IQI", 0, poll_count - 1, poll_count) + batch

    def answer(self, header: framing.RequestHeader) -> bytes:
        if header.operation == framing.OP_REGISTER:
            body = struct.pack("<IIQI", 0, 0, 1, 0x2C00) + b"\x050.9.0"
        elif header.operation == OP_SEND:
            body = struct.pack("<IIIIQ", 1, 0, 0, 0, 0)
        elif header.operation == framing.OP_NON_REPLICATED and header.code == CODE_POLL:
            body = self.poll_body
        elif header.operation >= 128:
            body = b"\0\0\0\0"
        else:
            body = b""
        return framing.reply_header(header, len(body)) + body

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = framing.parse_request_header(await reader.readexactly(256))
                if header.body_size:
                    await reader.readexactly(header.body_size)
                writer.write(self.answer(header))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp", default="127.0.0.1:0")
    parser.add_argument("--poll-count", type=int, default=1000)
    parser.add_argument("--payload-size", type=int, default=100)
    args = parser.parse_args()
    host, _, port = args.tcp.rpartition(":")
    responder = NullResponder(args.poll_count, args.payload_size)
    server = await asyncio.start_server(responder.serve, host, int(port), limit=2**20)
    bound = server.sockets[0].getsockname()
    print(f"ready tcp={bound[0]}:{bound[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
