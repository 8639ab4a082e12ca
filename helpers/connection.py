"""Connect to the course's Iggy server, starting the local sandbox when nothing answers.

The SDK retries a dead address forever by default, so ``connect()`` checks the port first
and gives the client a finite reconnection policy: a learner gets a clear message within
seconds instead of a cell that never finishes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from apache_iggy import AutoLogin, IggyClient, TcpConfig, TcpReconnectionConfig

from coursekit import notebook_errors
from coursekit.autostart import AutostartFailed, start_background_sandbox
from coursekit.network import is_loopback, port_answers
from coursekit.settings import get_settings

CONNECT_TIMEOUT = 15.0  # upper bound for connect + login, whatever the SDK does
RECONNECT_RETRIES = 3  # passes over the server address after a lost connection

# IggyClient takes no attributes, so the address each client was built for lives here
# (keyed by id(); an entry is overwritten when a new client reuses the id).
_client_addresses: dict[int, str] = {}


class ServerNotAvailable(ConnectionError):
    """Nothing answers at the configured address; the message says what to run."""


class LoginFailed(PermissionError):
    """The server refused the username or password."""


@dataclass(frozen=True)
class ServerInfo:
    """Which server a client talks to: the course sandbox or the real Apache Iggy."""

    kind: str  # "sandbox" or "apache-iggy"
    version: str  # e.g. "0.9.0-sandbox" or "0.9.0"
    address: str  # "host:port" of the binary protocol
    process_id: int
    start_time: int  # microseconds since the epoch; changes when the server restarts

    @property
    def name(self) -> str:
        """Human name, e.g. "the Iggy sandbox (0.9.0-sandbox)" or "Apache Iggy 0.9.0"."""
        if self.kind == "sandbox":
            return f"the Iggy sandbox ({self.version})"
        return f"Apache Iggy {self.version}"


async def connect(
    address: str | None = None,
    *,
    username: str | None = None,
    password: str | None = None,
    autostart: bool | None = None,
    announce: bool = True,
) -> IggyClient:
    """Return a logged-in ``IggyClient``; arguments left out come from the environment.

    Starts the local sandbox (detached, data in COURSE_DATA_DIR) when nothing answers on a
    loopback address and IGGY_AUTOSTART is on. Raises ``ServerNotAvailable`` or
    ``LoginFailed`` with a message that says what to do. Prints one line naming the server
    unless ``announce=False``.
    """
    notebook_errors.install()
    settings = get_settings()
    address = address or settings.tcp_address
    username = username or settings.username
    password = password or settings.password
    autostart = settings.autostart if autostart is None else autostart

    if not await port_answers(address):
        if not (autostart and is_loopback(address)):
            raise ServerNotAvailable(_not_available_message(address, autostart))
        try:
            await start_background_sandbox(address, settings)
        except AutostartFailed as error:
            raise ServerNotAvailable(str(error)) from None

    client = IggyClient(
        TcpConfig(
            server_address=address,
            auto_login=AutoLogin.username_password(username, password),
            reconnection=TcpReconnectionConfig(
                max_retries=RECONNECT_RETRIES, interval=timedelta(seconds=1)
            ),
            # The SDK leaves Nagle's algorithm on: a request written in two parts then waits
            # for the server's delayed ACK, about 40 ms per send for some batch sizes.
            nodelay=True,
        )
    )
    await _connect_and_login(client, address, username, password)
    _client_addresses[id(client)] = address
    if announce:
        info = await server_info(client)
        print(f"Connected to {info.name} at {address} as {username}")
    return client


async def server_info(client: IggyClient, address: str | None = None) -> ServerInfo:
    """Ask the server who it is (``get_stats``): sandbox or Apache Iggy, version, PID."""
    stats = await client.get_stats()
    version = stats.iggy_server_version
    return ServerInfo(
        kind="sandbox" if "sandbox" in version else "apache-iggy",
        version=version,
        address=address or _client_addresses.get(id(client)) or get_settings().tcp_address,
        process_id=stats.process_id,
        start_time=stats.start_time,
    )


def _not_available_message(address: str, autostart: bool) -> str:
    if not autostart:
        why = "IGGY_AUTOSTART=0, so the course does not start its sandbox by itself."
    else:
        why = "It is not a local address, so the course does not start its sandbox there."
    return (
        f"No Iggy server answers at {address}. {why}\n"
        "Start a server, then run this again:\n"
        "  make lab                # the course's sandbox server (and Jupyter)\n"
        "  docker compose up -d    # or the real Apache Iggy 0.9.0 in Docker\n"
        "Or point the course at a running server: export IGGY_TCP_ADDRESS=host:port"
    )


async def _connect_and_login(
    client: IggyClient, address: str, username: str, password: str
) -> None:
    try:
        await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT)
    except TimeoutError:
        raise ServerNotAvailable(
            f"The server at {address} accepted the connection but did not complete the "
            f"login within {CONNECT_TIMEOUT:g}s. Is it an Iggy 0.9 server?"
        ) from None
    except RuntimeError as error:
        if await _credentials_rejected(address, username, password):
            raise LoginFailed(
                f"The server at {address} refused user {username!r} with that password. "
                "Set IGGY_USERNAME and IGGY_PASSWORD to the server's root user "
                "(the course's sandbox and docker-compose.yml use iggy/iggy)."
            ) from None
        raise ServerNotAvailable(f"Could not connect to {address}: {error}") from None


async def _credentials_rejected(address: str, username: str, password: str) -> bool:
    """Tell a refused login from a broken connection: log in by hand on a fresh client."""
    probe = IggyClient(
        TcpConfig(server_address=address, reconnection=TcpReconnectionConfig(max_retries=0))
    )
    try:
        await asyncio.wait_for(probe.connect(), CONNECT_TIMEOUT)
    except (TimeoutError, RuntimeError):
        return False
    try:
        await asyncio.wait_for(probe.login_user(username, password), CONNECT_TIMEOUT)
    except RuntimeError:
        return True
    except TimeoutError:
        return False
    return False
