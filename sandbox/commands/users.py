"""Users: get, list, create, update, delete, permissions and passwords."""

from __future__ import annotations

from sandbox.commands.registry import Context, command
from sandbox.errors import Code, IggyError
from sandbox.wire import records
from sandbox.wire.codec import Reader, Writer

STATUS_ACTIVE, STATUS_INACTIVE = 1, 2


def _status(value: int) -> bool:
    if value not in (STATUS_ACTIVE, STATUS_INACTIVE):
        raise IggyError(Code.INVALID_USER_STATUS)
    return value == STATUS_ACTIVE


def _password(body: Reader, code: Code = Code.INVALID_PASSWORD) -> str:
    raw = body.small_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IggyError(code) from None


@command(31, "get user")
def get_user(ctx: Context, body: Reader) -> bytes:
    user = ctx.system.get_user(ctx.user, body.identifier())
    return records.user_details(Writer(), user).bytes() if user else b""


@command(32, "get users")
def get_users(ctx: Context, body: Reader) -> bytes:
    w = Writer()
    for user in ctx.system.get_users(ctx.user):
        records.user_record(w, user)
    return w.bytes()


@command(33, "create user", operation=141)
async def create_user(ctx: Context, body: Reader) -> bytes:
    username = body.name()
    password = _password(body)
    active = _status(body.u8())
    permissions = None
    if body.u8():
        block = Reader(body.raw(body.u32()))
        permissions = records.decode_permissions(block)
        block.end()
    options = body.options()
    user = await ctx.system.create_user(ctx.user, username, password, active, permissions,
                                        options)
    return records.user_details(Writer(), user).bytes()


@command(35, "update user", operation=142)
def update_user(ctx: Context, body: Reader) -> bytes:
    ident = body.identifier()
    username = body.name() if body.u8() else None
    active = _status(body.u8()) if body.u8() else None
    ctx.system.update_user(ctx.user, ident, username, active, body.options())
    return b""


@command(34, "delete user", operation=143)
def delete_user(ctx: Context, body: Reader) -> bytes:
    ctx.system.delete_user(ctx.user, body.identifier())
    return b""


@command(36, "update permissions", operation=145)
def update_permissions(ctx: Context, body: Reader) -> bytes:
    ident = body.identifier()
    permissions = None
    if body.u8():
        block = Reader(body.raw(body.u32()))
        permissions = records.decode_permissions(block)
        block.end()
    ctx.system.update_permissions(ctx.user, ident, permissions)
    return b""


@command(37, "change password", operation=144)
async def change_password(ctx: Context, body: Reader) -> bytes:
    ident = body.identifier()
    current = _password(body)
    new = _password(body)
    await ctx.system.change_password(ctx.user, ident, current, new)
    return b""
