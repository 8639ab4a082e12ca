"""One table of binary commands, filled by a decorator in each family module.

A handler gets a ``Context`` (the system, the caller's session) and a ``Reader`` over the
request body, and returns the reply payload (``b""`` for "not found", which the SDK reads
as None); a large payload may come as a list of parts, which the front joins with the reply
header in one copy. It raises ``IggyError`` for anything Iggy would refuse; the TCP front
decides where the code goes on the wire.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sandbox.errors import AnsweredAsNotFound
from sandbox.state.model import Session, User
from sandbox.state.system import System
from sandbox.wire.codec import UNDECODABLE, Reader

Payload = bytes | list[bytes]
Handler = Callable[["Context", Reader], "Payload | Awaitable[Payload]"]


@dataclass(slots=True)
class Context:
    """What a handler may use: the state, the caller's session and its user (None only for
    commands that need no login)."""

    system: System
    session: Session
    user: User | None


@dataclass(frozen=True, slots=True)
class Command:
    code: int
    name: str
    handler: Handler
    is_async: bool
    needs_login: bool


COMMANDS: dict[int, Command] = {}
# Replicated writes travel by operation byte, not by code: operation -> legacy code.
OPERATION_CODES: dict[int, int] = {}


def command(code: int, name: str, *, operation: int | None = None,
            needs_login: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` for a legacy command code (and its operation byte, if any)."""

    def register(handler: Handler) -> Handler:
        if code in COMMANDS:
            raise RuntimeError(f"command {code} registered twice")
        COMMANDS[code] = Command(code, name, handler, inspect.iscoroutinefunction(handler),
                                 needs_login)
        if operation is not None:
            OPERATION_CODES[operation] = code
        return handler

    return register


# The head of a send or an offset write. Iggy routes these to their partition before
# anything else, and answers a head that does not decode as it answers a target that does
# not resolve: ResourceNotFound (20), not InvalidCommand.
partition_request_head = AnsweredAsNotFound(frozenset({UNDECODABLE}))


def load_all() -> dict[int, Command]:
    """Import every family module so their decorators fill the table."""
    from sandbox.commands import (  # noqa: F401
        groups,
        messages,
        offsets,
        partitions,
        streams,
        system,
        tokens,
        topics,
        users,
    )

    return COMMANDS
