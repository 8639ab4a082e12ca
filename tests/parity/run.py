"""Run scenarios against one server and return their normalised exchanges.

Between two scenarios the server is put back to its starting state (no streams, no users
but root, no personal tokens of root, no client connected), so each scenario starts from
the same ids and the same client list whatever ran before it, and a scenario that stopped
half-way does not disturb the next one.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback

from tests.parity.exchange import Session, Target
from tests.parity.normalise import normalise_scenario
from tests.parity.scenarios import SCENARIOS

ABORTED = "scenario stopped early"  # the step name of a scenario's unexpected exception
CLIENTS_GONE_WITHIN = 10.0  # seconds for the server to see the last scenario's clients go
JSON = {"Content-Type": "application/json"}


async def run_scenario(target: Target, name: str) -> list[dict]:
    """Run one scenario; an exception it raises becomes its last exchange."""
    session = Session(target)
    try:
        await SCENARIOS[name](session)
    except Exception as error:  # recorded, so the comparison shows where it stopped
        frame = traceback.extract_tb(error.__traceback__)[-1]
        session.exchanges.append({"step": ABORTED,
                                  "error": f"{type(error).__name__}: {error}",
                                  "at": f"{frame.name}:{frame.lineno}"})
    finally:
        await session.close()
        await reset_server(target)
    return normalise_scenario(session.exchanges)


async def run_all(target: Target, names: list[str] | None = None) -> dict[str, list[dict]]:
    """Every scenario (or those named), in registry order."""
    chosen = [name for name in SCENARIOS if names is None or name in names]
    return {name: await run_scenario(target, name) for name in chosen}


async def reset_server(target: Target) -> None:
    """Delete every stream, every user but root and root's personal tokens, over HTTP, then
    wait until no binary-protocol client is connected any more. Not recorded."""
    session = Session(target)
    try:
        credentials = {"username": target.username, "password": target.password}
        login = await session.send("POST", "/users/login", JSON, json.dumps(credentials).encode())
        bearer = {"Authorization": f"Bearer {login.body['access_token']['token']}"}
        for stream in (await session.send("GET", "/streams", bearer, None)).body:
            await session.send("DELETE", f"/streams/{stream['id']}", bearer, None)
        for user in (await session.send("GET", "/users", bearer, None)).body:
            if user["id"] != 0:
                await session.send("DELETE", f"/users/{user['id']}", bearer, None)
        for personal in (await session.send("GET", "/personal-access-tokens", bearer,
                                            None)).body:
            await session.send("DELETE", f"/personal-access-tokens/{personal['name']}",
                               bearer, None)
        deadline = time.monotonic() + CLIENTS_GONE_WITHIN
        while (await session.send("GET", "/clients", bearer, None)).body:
            if time.monotonic() > deadline:
                raise RuntimeError("SDK clients of the last scenario are still connected")
            await asyncio.sleep(0.05)
    finally:
        await session.close()
