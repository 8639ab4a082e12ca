"""Run scenarios against one server and return their normalised exchanges.

Between two scenarios the server is put back to its starting state (no streams, no users
but root, no personal tokens of root), so each scenario starts from the same ids whatever
ran before it, and a scenario that stopped half-way does not disturb the next one.
"""

from __future__ import annotations

import json
import traceback

from tests.parity.exchange import Session, Target
from tests.parity.normalise import normalise_scenario
from tests.parity.scenarios import SCENARIOS

ABORTED = "scenario stopped early"  # the step name of a scenario's unexpected exception


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
    """Delete every stream, every user but root and root's personal tokens. Not recorded."""
    session = Session(target)
    try:
        client = await session.connect()
        for stream in await client.get_streams():
            await client.delete_stream(stream.id)
        for user in await client.get_users():
            if user.id != 0:
                await client.delete_user(user.id)
        credentials = {"username": target.username, "password": target.password}
        token = (await session.send("POST", "/users/login", {
            "Content-Type": "application/json"}, json.dumps(credentials).encode()
        )).body["access_token"]["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        tokens = (await session.send("GET", "/personal-access-tokens", bearer, None)).body
        for personal in tokens or ():
            await session.send("DELETE", f"/personal-access-tokens/{personal['name']}",
                                bearer, None)
    finally:
        await session.close()
