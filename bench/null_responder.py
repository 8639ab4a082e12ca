"""A server that answers the SDK as fast as Python can, storing nothing.

It accepts any login, acknowledges every send without looking at it, and answers every poll
with ``count`` messages built once from the workload's payload sizes, over TCP (the binary
protocol) and HTTP (an aiohttp handler for the same requests). Measured beside the sandbox
it shows the SDK's own ceiling on this machine, so the benchmark can print a ratio instead
of a bare number. Replies are laid out by the sandbox's own encoders, so both servers hand
the SDK the same bytes to decode; only the work behind them differs.

Run: ``python -m bench.null_responder --payloads 10:10000 --partitions 8`` (prints
``ready tcp=HOST:PORT http=HOST:PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import struct
from types import SimpleNamespace

from aiohttp import web

from bench.workloads import Payloads
from sandbox.commands.system import get_cluster_metadata
from sandbox.http.app import MAX_REQUEST_BYTES, VIEW
from sandbox.http.batches import Outgoing, build_batch
from sandbox.http.errors import json_reply
from sandbox.http.jsonshapes import identity_json
from sandbox.http.messagejson import polled_text
from sandbox.http.messages import DURABILITY
from sandbox.state.messages import Polled
from sandbox.state.model import Partition, Topic, now_micros
from sandbox.storage.offsets import OffsetFiles
from sandbox.storage.segments import PartitionLog
from sandbox.wire import framing, records
from sandbox.wire.codec import Writer

CODE_CLUSTER_METADATA, CODE_POLL, CODE_GET_TOPIC, CODE_SYNC_GROUP = 12, 100, 300, 606
OP_SEND = 160
_CONFIRMATION = struct.Struct("<IIIIQ")
_POLL_HEAD = struct.Struct("<IQI")
_POLL_TAIL = struct.Struct("<BI9xIB")  # has_partition, partition, strategy, count, auto_commit
MESSAGES = "/streams/{stream}/topics/{topic}/messages"


class NullResponder:
    """Canned answers for one workload's payload sizes and partition count."""

    def __init__(self, payloads: Payloads, partitions: int):
        self.tcp_address = self.http_address = ""  # set once the listeners are bound
        self.payloads = payloads
        self.partitions = partitions
        self.topic_record = records.topic_details(Writer(), _topic(partitions)).bytes()
        sync = Writer().u64(0).u32(partitions)
        for partition_id in range(partitions):
            sync.u32(partition_id)
        self.sync_record = sync.bytes()
        self._poll_bodies: dict[tuple[int, int], bytes] = {}
        self._poll_json: dict[tuple[int, int], bytes] = {}

    def batch(self, partition_id: int, count: int) -> bytes:
        """``count`` stored-looking messages with the workload's payload sizes."""
        sizes = self.payloads.sizes(count)
        batch = bytearray(build_batch(
            [Outgoing(i + 1, b"x" * size, b"") for i, size in enumerate(sizes)], now_micros()))
        struct.pack_into("<Q", batch, 0, partition_id)
        return bytes(batch)

    def poll_body(self, partition_id: int, count: int) -> bytes:
        """The binary poll reply, built on first use."""
        key = (partition_id, count)
        if key not in self._poll_bodies:
            batch = self.batch(partition_id, count) if count else b""
            self._poll_bodies[key] = _POLL_HEAD.pack(partition_id, max(count - 1, 0),
                                                     count) + batch
        return self._poll_bodies[key]

    def poll_json(self, partition_id: int, count: int) -> bytes:
        """The JSON poll reply, built on first use."""
        key = (partition_id, count)
        if key not in self._poll_json:
            batches = [self.batch(partition_id, count)] if count else []
            self._poll_json[key] = polled_text(
                Polled(partition_id, max(count - 1, 0), count, batches)).encode()
        return self._poll_json[key]

    # ------------------------------------------------------------------------ TCP
    def answer(self, header: framing.RequestHeader, body: bytes) -> bytes:
        if header.operation == framing.OP_REGISTER:
            reply = struct.pack("<IIQI", 0, 0, 1, 0x2C00) + b"\x050.9.0"
        elif header.operation == OP_SEND:
            reply = _CONFIRMATION.pack(1, 0, 0, 0, 0)
        elif header.operation == framing.OP_NON_REPLICATED:
            reply = self.read_reply(header.code, body)
        elif header.operation >= 128:
            reply = b"\0\0\0\0"
        else:
            reply = b""
        return framing.reply_header(header, len(reply)) + reply

    def read_reply(self, code: int, body: bytes) -> bytes:
        if code == CODE_POLL:
            # the fixed-size tail of a poll body; the identifiers before it vary in length
            has_partition, partition_id, count, _ = _POLL_TAIL.unpack_from(
                body, len(body) - _POLL_TAIL.size)
            return self.poll_body(partition_id if has_partition else 0, count)
        if code == CODE_CLUSTER_METADATA:  # the SDK asks after login
            return get_cluster_metadata(SimpleNamespace(system=self), None)
        if code == CODE_GET_TOPIC:
            return self.topic_record
        if code == CODE_SYNC_GROUP:
            return self.sync_record
        return b""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = framing.parse_request_header(await reader.readexactly(256))
                body = await reader.readexactly(header.body_size) if header.body_size else b""
                writer.write(self.answer(header, body))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def cluster_node(self) -> dict:
        """This one node, in the shape the sandbox's cluster-metadata encoder reads."""
        host, _, port = self.tcp_address.rpartition(":")
        return {"cluster": "null", "name": "null-node", "ip": host, "tcp": int(port),
                "quic": 0, "http": int(self.http_address.rpartition(":")[2]), "websocket": 0}

    # ------------------------------------------------------------------------ HTTP
    def http_app(self) -> web.Application:
        login = json_reply(identity_json(0, "null-responder", now_micros() + 3600 * 10**6)).body
        confirmed = json_reply({"confirmations": [
            {"stream_id": 0, "topic_id": 0, "partition_id": 0, "base_offset": 0}]}).body
        sent_headers = {**VIEW, DURABILITY: "replicated-memory"}

        async def ping(request: web.Request) -> web.Response:
            return web.Response(text="pong")

        async def log_in(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=login, content_type="application/json", headers=VIEW)

        async def send(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=confirmed, status=201, content_type="application/json",
                                headers=sent_headers)

        async def poll(request: web.Request) -> web.Response:
            query = request.query
            body = self.poll_json(int(query.get("partition_id", 0)), int(query.get("count", 10)))
            return web.Response(body=body, content_type="application/json", headers=VIEW)

        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.add_routes([web.get("/ping", ping), web.post("/users/login", log_in),
                        web.post(MESSAGES, send), web.get(MESSAGES, poll)])
        return app


def _topic(partitions: int) -> Topic:
    """A topic record to answer GetTopic with (the SDK asks before balanced or key sends)."""
    created = now_micros()
    return Topic(0, 0, "null", created, {
        p: Partition(p, created, PartitionLog(None, 1 << 30, p), OffsetFiles(None))
        for p in range(partitions)})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp", default="127.0.0.1:0")
    parser.add_argument("--http", default="127.0.0.1:0")
    parser.add_argument("--payloads", default="100", help="SIZE or LOW:HIGH bytes (log-uniform)")
    parser.add_argument("--partitions", type=int, default=1)
    args = parser.parse_args()
    responder = NullResponder(Payloads.parse(args.payloads), args.partitions)
    host, _, port = args.tcp.rpartition(":")
    server = await asyncio.start_server(responder.serve, host, int(port), limit=2**20)
    runner = web.AppRunner(responder.http_app(), access_log=None)
    await runner.setup()
    http_host, _, http_port = args.http.rpartition(":")
    site = web.TCPSite(runner, http_host, int(http_port))
    await site.start()
    responder.tcp_address = "{}:{}".format(*server.sockets[0].getsockname()[:2])
    responder.http_address = "{}:{}".format(*runner.addresses[0][:2])
    print(f"ready tcp={responder.tcp_address} http={responder.http_address}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
