"""The scenarios, one module per family of what the course teaches, in the order they run.

Each scenario is an ``async def name(s: Session)`` registered with ``@scenario``. It starts
on a server holding no streams and no users but root, creates what it needs with the
names ``parity-...``, and deletes it again, so scenario ids (streams, topics, users) do not
depend on which scenarios ran before. The registry order is the run order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.parity.exchange import Session

Scenario = Callable[[Session], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(function: Scenario) -> Scenario:
    """Register ``function`` under its name (``streams_over_tcp`` → "streams_over_tcp")."""
    if function.__name__ in SCENARIOS:
        raise ValueError(f"two scenarios named {function.__name__}")
    SCENARIOS[function.__name__] = function
    return function


# Imported for their registrations, in run order.
from tests.parity.scenarios import (  # noqa: E402, F401, I001
    streams,
    topics,
    messages,
    offsets,
    groups,
    users,
    tokens,
    http_api,
    sdk_http,
    retention,
)
