"""Streams: get, list, create, update, delete, purge."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer


@command(200, "get stream")
def get_stream(ctx: Context, body: Reader) -> bytes:
    stream = ctx.system.get_stream(ctx.user, body.identifier())
    return records.stream_details(Writer(), stream).bytes() if stream else b""


@command(201, "get streams")
def get_streams(ctx: Context, body: Reader) -> bytes:
    w = Writer()
    for stream in ctx.system.get_streams(ctx.user):
        records.stream_record(w, stream)
    return w.bytes()


@command(202, "create stream", operation=128)
def create_stream(ctx: Context, body: Reader) -> bytes:
    name = body.name()
    stream = ctx.system.create_stream(ctx.user, name, body.options())
    return records.stream_details(Writer(), stream).bytes()


@command(204, "update stream", operation=129)
def update_stream(ctx: Context, body: Reader) -> bytes:
    ident = body.identifier()
    name = body.name()
    ctx.system.update_stream(ctx.user, ident, name, body.options())
    return b""


@command(203, "delete stream", operation=130)
def delete_stream(ctx: Context, body: Reader) -> bytes:
    ctx.system.delete_stream(ctx.user, body.identifier())
    return b""


@command(205, "purge stream", operation=131)
def purge_stream(ctx: Context, body: Reader) -> bytes:
    ctx.system.purge_stream(ctx.user, body.identifier())
    return b""
