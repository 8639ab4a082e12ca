"""A teacher's setup: one Iggy server for a class, one user per learner.

``make classroom N=30`` (or ``python -m coursekit.classroom 30``) logs in with the teacher's
credentials (IGGY_USERNAME / IGGY_PASSWORD, the server's root user) and creates the users
``learner01`` ... ``learner30`` (or the names given with ``--names``), each with a fresh
random password and the grants the course needs. It prints each learner's credentials and
the lines to put in their environment. Users that already exist are kept (their password
is not known any more, so none is printed); ``--renew`` gives them new passwords,
``--remove`` deletes them.

What Iggy 0.9's permissions can isolate, and what not: creating a stream needs the global
``manage_streams`` grant, and that grant covers every stream on the server. So learners can
see and delete each other's streams; what keeps them apart is ``COURSE_LEARNER``, which puts
each learner's name in front of every name the course creates and makes each reset delete
only that learner's streams: it prevents accidents, not mischief. They cannot manage users
or the server unless ``--allow-users`` is given (notebook 09 creates users: with that grant
a learner can also change or delete the other learners).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from dataclasses import dataclass

from apache_iggy import GlobalPermissions, IggyClient, Permissions

from coursekit.scripts import exit_now
from coursekit.settings import check_learner, get_settings
from helpers.connection import LoginFailed, ServerNotAvailable, connect


@dataclass(frozen=True)
class Learner:
    name: str
    password: str | None  # None: the user existed already and kept its password


def learner_permissions(allow_users: bool) -> Permissions:
    """What the course needs: streams, topics, messages, and reading the server's stats
    (``helpers.connect`` names the server from them). Users only with ``allow_users``."""
    return Permissions(
        GlobalPermissions(
            read_servers=True,
            manage_streams=True,
            read_streams=True,
            manage_topics=True,
            read_topics=True,
            poll_messages=True,
            send_messages=True,
            manage_users=allow_users,
            read_users=allow_users,
        )
    )


async def set_up(
    client: IggyClient, names: list[str], *, allow_users: bool, renew: bool
) -> list[Learner]:
    """Create the learners' users (or renew their passwords); return their credentials."""
    existing = {user.username for user in await client.get_users()}
    learners = []
    for name in names:
        if name in existing and not renew:
            learners.append(Learner(name, None))
            continue
        if name in existing:
            await client.delete_user(name)
        password = secrets.token_urlsafe(12)
        await client.create_user(name, password, permissions=learner_permissions(allow_users))
        learners.append(Learner(name, password))
    return learners


async def remove(client: IggyClient, names: list[str]) -> list[str]:
    """Delete the learners' users that exist; return their names."""
    existing = {user.username for user in await client.get_users()}
    gone = [name for name in names if name in existing]
    for name in gone:
        await client.delete_user(name)
    return gone


def environment_lines(learner: Learner, tcp_address: str, http_url: str) -> list[str]:
    """The two lines a learner puts in their shell before ``make lab``."""
    password = learner.password or "<unchanged: run again with --renew for a new one>"
    return [
        f"export IGGY_USERNAME={learner.name} IGGY_PASSWORD={password} "
        f"COURSE_LEARNER={learner.name}",
        f"export IGGY_TCP_ADDRESS={tcp_address} IGGY_HTTP_URL={http_url} IGGY_AUTOSTART=0",
    ]


def learner_names(count: int | None, names: str | None) -> list[str]:
    """``learner01`` ... or the given comma-separated names, each checked like
    COURSE_LEARNER, since each becomes one."""
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else []
    if count:
        width = max(2, len(str(count)))
        chosen += [f"learner{i:0{width}d}" for i in range(1, count + 1)]
    for name in chosen:
        check_learner(name)
    if not chosen:
        raise ValueError("give a number of learners (e.g. 30) or --names ana,bo")
    return list(dict.fromkeys(chosen))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m coursekit.classroom", description=__doc__.splitlines()[0]
    )
    parser.add_argument("count", nargs="?", type=int, help="how many learners (learner01...)")
    parser.add_argument("--names", help="comma-separated learner names instead of numbers")
    parser.add_argument(
        "--public-address",
        help="the server's host as the learners reach it (default: the host of "
        "IGGY_TCP_ADDRESS); ports come from IGGY_TCP_ADDRESS and IGGY_HTTP_URL",
    )
    parser.add_argument("--allow-users", action="store_true", help="let learners manage users")
    parser.add_argument("--renew", action="store_true", help="new passwords for existing ones")
    parser.add_argument("--remove", action="store_true", help="delete the learners' users")
    args = parser.parse_args(argv)
    try:
        args.names = learner_names(args.count, args.names)
    except ValueError as error:
        parser.error(str(error))
    return args


async def _main(args: argparse.Namespace) -> None:
    settings = get_settings()
    client = await connect(announce=False)
    if args.remove:
        gone = await remove(client, args.names)
        print(f"Deleted {len(gone)} learner user(s): {', '.join(gone) or 'none existed'}")
        return
    learners = await set_up(client, args.names, allow_users=args.allow_users, renew=args.renew)
    host = args.public_address or settings.tcp_address.rpartition(":")[0]
    tcp = f"{host}:{settings.tcp_address.rpartition(':')[2]}"
    http = f"http://{host}:{settings.http_url.rpartition(':')[2]}"
    created = sum(learner.password is not None for learner in learners)
    print(f"{created} learner user(s) created, {len(learners) - created} kept, on {tcp}.")
    print("Give each learner their two lines; they run them in a terminal, then `make lab`.\n")
    for learner in learners:
        print(f"# {learner.name}")
        print("\n".join(environment_lines(learner, tcp, http)))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(_main(args))
    except (ServerNotAvailable, LoginFailed) as error:
        print(error, file=sys.stderr)
        return 1
    except RuntimeError as error:  # the server refused: not the root user, most likely
        print(
            f"The server refused: {error}\nRun this with the server's root user in "
            "IGGY_USERNAME / IGGY_PASSWORD.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
