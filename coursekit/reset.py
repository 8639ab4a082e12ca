"""Delete the course's streams and users: ``python -m coursekit.reset [PREFIX]``.

Without a prefix it deletes everything the course created (``reset_all``); with one, only
that notebook's streams and users, e.g. ``python -m coursekit.reset nb09``. With
COURSE_LEARNER set, only that learner's.
"""

from __future__ import annotations

import asyncio
import sys

from coursekit.scripts import exit_now
from helpers.connection import LoginFailed, ServerNotAvailable, connect
from helpers.resources import course_name, reset, reset_all


async def _main(prefix: str | None) -> None:
    client = await connect()
    deleted = await (reset(client, course_name(prefix)) if prefix else reset_all(client))
    print(f"Deleted: {', '.join(deleted)}" if deleted else "Nothing to delete")


def main(argv: list[str]) -> int:
    """Run the reset; returns the exit code (2 for bad arguments, 1 without a server)."""
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    try:
        asyncio.run(_main(argv[0] if argv else None))
    except (ServerNotAvailable, LoginFailed) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
