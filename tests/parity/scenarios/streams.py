"""Streams (notebook 02): create, read, rename, purge, delete; ids, names and their errors."""

from __future__ import annotations

from tests.parity.exchange import Session
from tests.parity.scenarios import scenario


@scenario
async def streams_over_tcp(s: Session) -> None:
    client = await s.connect()
    await s.sdk("list streams of an empty server", client.get_streams)
    await s.sdk("create a stream", client.create_stream, "parity-orders")
    await s.sdk("create a second stream", client.create_stream, "parity-audit")
    await s.sdk("create a stream whose name exists", client.create_stream, "parity-orders")
    await s.sdk("create a stream with an empty name", client.create_stream, "")
    await s.sdk("create a stream with a 256-byte name", client.create_stream, "x" * 256)
    await s.sdk("get a stream by name", client.get_stream, "parity-orders")
    await s.sdk("get a stream by id", client.get_stream, 1)
    await s.sdk("get a missing stream by name", client.get_stream, "parity-missing")
    await s.sdk("get a missing stream by id", client.get_stream, 99)
    await s.sdk("list two streams", client.get_streams)
    await s.sdk("rename a stream", client.update_stream, "parity-audit", "parity-audit-2")
    await s.sdk("rename a stream to a taken name", client.update_stream, "parity-audit-2",
                "parity-orders")
    await s.sdk("rename a missing stream", client.update_stream, "parity-missing", "x")
    await s.sdk("get the renamed stream", client.get_stream, 1)
    await s.sdk("purge a stream", client.purge_stream, "parity-orders")
    await s.sdk("purge a missing stream", client.purge_stream, "parity-missing")
    await s.sdk("delete a stream", client.delete_stream, "parity-orders")
    await s.sdk("delete it again", client.delete_stream, "parity-orders")
    await s.sdk("delete a missing stream by id", client.delete_stream, 99)
    await s.sdk("a new stream takes the lowest free id", client.create_stream, "parity-reuse")
    await s.sdk("get the stream in the reused slot", client.get_stream, 0)
    await s.sdk("delete the reused stream", client.delete_stream, 0)
    await s.sdk("delete the renamed stream", client.delete_stream, "parity-audit-2")


@scenario
async def streams_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    await s.http("list streams of an empty server", "GET", "/streams", token=token)
    await s.http("create a stream", "POST", "/streams", json_body={"name": "parity-http"},
                 token=token)
    await s.http("create a stream whose name exists", "POST", "/streams",
                 json_body={"name": "parity-http"}, token=token)
    await s.http("create a stream with an empty name", "POST", "/streams",
                 json_body={"name": ""}, token=token)
    await s.http("get a stream by name", "GET", "/streams/parity-http", token=token)
    await s.http("get a stream by id", "GET", "/streams/0", token=token)
    await s.http("get a missing stream", "GET", "/streams/parity-missing", token=token)
    await s.http("list one stream", "GET", "/streams", token=token)
    await s.http("rename a stream", "PUT", "/streams/0", json_body={"name": "parity-http-2"},
                 token=token)
    await s.http("rename a missing stream", "PUT", "/streams/7",
                 json_body={"name": "parity-x"}, token=token)
    await s.http("purge a stream", "DELETE", "/streams/parity-http-2/purge", token=token)
    await s.http("delete a stream", "DELETE", "/streams/parity-http-2", token=token)
    await s.http("delete it again", "DELETE", "/streams/parity-http-2", token=token)
    await s.http("list no streams", "GET", "/streams", token=token)
