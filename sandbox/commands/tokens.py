"""Personal access tokens: list, create (the token is shown once) and delete."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.wire.codec import Reader, Writer


@command(41, "get personal access tokens")
def get_tokens(ctx: Context, body: Reader) -> bytes:
    w = Writer()
    for token in ctx.system.get_tokens(ctx.user):
        w.name(token.name).u64(token.expiry_at or 0)
    return w.bytes()


@command(42, "create personal access token", operation=146)
def create_token(ctx: Context, body: Reader) -> bytes:
    name = body.name()
    expiry = body.u64()
    return Writer().name(ctx.system.create_token(ctx.user, name, expiry)).bytes()


@command(43, "delete personal access token", operation=147)
def delete_token(ctx: Context, body: Reader) -> bytes:
    ctx.system.delete_token(ctx.user, body.name())
    return b""
