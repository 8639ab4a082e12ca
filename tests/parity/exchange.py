"""A scenario's view of one server: run requests, write each one down as an exchange.

A scenario gets a ``Session``. ``sdk(step, call, ...)`` runs one SDK call (over TCP, or
over HTTP for a client built on ``HttpConfig``) and records its result, or the error the
SDK raised; ``http(step, method, path, ...)`` sends one request
and records the status, the headers that matter and the body. Every step is named in
words and the name is unique within its scenario, so a difference points at a step.

Exchanges are recorded raw; ``tests.parity.normalise`` later replaces what legitimately
varies between runs (times, tokens, ...) before anything is written or compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from apache_iggy import AutoLogin, IggyClient, TcpConfig, TcpReconnectionConfig

from tests.parity.plain import plain, text_or_hex

# The response headers a learner or a client library acts on; everything else (Date,
# Content-Length, Server, ...) varies or does not matter and is left out.
HEADERS_THAT_MATTER = (
    "content-type", "content-disposition", "iggy-durability", "iggy-view", "allow",
    "connection", "retry-after", "location", "www-authenticate",
    "access-control-allow-origin", "access-control-allow-methods",
    "access-control-allow-headers", "access-control-expose-headers",
)
NO_BODY = object()  # ``http(json=...)`` default: send no body at all
CLIENT_TIMEOUT = 30.0  # seconds any single request may take before the scenario fails


@dataclass(frozen=True)
class Target:
    """Where the server under test listens, and how often its retention cleaner runs."""

    tcp_address: str  # "127.0.0.1:PORT"
    http_url: str  # "http://127.0.0.1:PORT"
    cleaner_interval: float  # seconds between two passes of the server's segment cleaner
    username: str = "iggy"
    password: str = "iggy"


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: Any


class StepError(RuntimeError):
    """A scenario used a step name twice, or asked for a value a failed step did not give."""


@dataclass
class Session:
    """One scenario run against one server; ``exchanges`` is what it recorded."""

    target: Target
    exchanges: list[dict] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None
    _clients: list[IggyClient] = field(default_factory=list)

    # ------------------------------------------------------------------ the SDK
    async def connect(self, username: str | None = None, password: str | None = None,
                      *, login: bool = True) -> IggyClient:
        """A new SDK client (its own connection); logged in unless ``login=False``.

        Not recorded: a scenario records logins it cares about as steps of their own.
        """
        username = username or self.target.username
        password = password or self.target.password
        client = IggyClient(TcpConfig(
            server_address=self.target.tcp_address,
            auto_login=AutoLogin.disabled(),
            reconnection=TcpReconnectionConfig(max_retries=1, interval=timedelta(seconds=1)),
            nodelay=True))
        await asyncio.wait_for(client.connect(), CLIENT_TIMEOUT)
        if login:
            await asyncio.wait_for(client.login_user(username, password), CLIENT_TIMEOUT)
        self._clients.append(client)
        return client

    def token_client(self, token: str) -> IggyClient:
        """A client that logs in with a personal access token when it connects; not yet
        connected, so a scenario records the connect as a step of its own."""
        return IggyClient(TcpConfig(
            server_address=self.target.tcp_address,
            auto_login=AutoLogin.personal_access_token(token),
            reconnection=TcpReconnectionConfig(max_retries=1, interval=timedelta(seconds=1))))

    async def sdk(self, step: str, call: Callable[..., Awaitable[Any]], *args: Any,
                  vary: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """Run ``call(*args, **kwargs)`` (an SDK method) and record what came back.

        Returns the SDK's result, or None when it raised (the error is recorded).
        ``vary`` names result paths whose values legitimately differ run to run.
        """
        exchange: dict[str, Any] = {"step": self._unique(step), "sdk": call.__name__,
                                    "args": _summary(args, kwargs)}
        try:
            result = await asyncio.wait_for(call(*args, **kwargs), CLIENT_TIMEOUT)
        except (RuntimeError, ValueError) as error:
            exchange["error"] = f"{type(error).__name__}: {error}"
            result = None
        else:
            exchange["result"] = plain(result)
        self._record(exchange, vary)
        return result

    async def sdk_raw(self, step: str, client: IggyClient, code: int, payload: bytes,
                      decode: Callable[[bytes], Any] | None = None) -> bytes | None:
        """A command the 0.9.0 Python SDK has no method for, through ``send_binary_request``.

        Records the reply decoded by ``decode`` (hex when there is none), or the error.
        """
        exchange: dict[str, Any] = {"step": self._unique(step), "sdk": f"command {code}",
                                    "args": payload.hex()}
        try:
            reply = await asyncio.wait_for(client.send_binary_request(code, payload),
                                           CLIENT_TIMEOUT)
        except RuntimeError as error:
            exchange["error"] = f"{type(error).__name__}: {error}"
            reply = None
        else:
            exchange["result"] = decode(reply) if decode else reply.hex()
        self._record(exchange, ())
        return reply

    # ------------------------------------------------------------------ HTTP
    async def http(self, step: str, method: str, path: str, *, json_body: Any = NO_BODY,
                   data: bytes | None = None, token: str | None = None,
                   headers: dict[str, str] | None = None,
                   vary: tuple[str, ...] = ()) -> HttpAnswer:
        """Send one request and record it with its answer.

        ``json_body`` is sent as JSON (Content-Type application/json); ``data`` as raw
        bytes with whatever ``headers`` say (no Content-Type unless given). ``token`` adds
        ``Authorization: Bearer <token>``.
        """
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        body: bytes | None = data
        if json_body is not NO_BODY:
            body = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        request: dict[str, Any] = {"method": method, "path": path, "headers": sent}
        if json_body is not NO_BODY:
            request["json"] = json_body
        elif data is not None:
            request["data"] = text_or_hex(data)
        answer = await self.send(method, path, sent, body)
        self._record({"step": self._unique(step), "request": request,
                      "response": {"status": answer.status, "headers": answer.headers,
                                   "body": answer.body}}, vary)
        return answer

    async def http_login(self, step: str, username: str | None = None,
                         password: str | None = None) -> str | None:
        """``POST /users/login``, recorded; returns the access token (None if refused)."""
        answer = await self.http(step, "POST", "/users/login", json_body={
            "username": username or self.target.username,
            "password": password or self.target.password})
        return token_of(answer)

    async def send(self, method: str, path: str, headers: dict[str, str],
                   body: bytes | None) -> HttpAnswer:
        """One HTTP request, not recorded (for setup and clean-up)."""
        if self._http is None:
            # No automatic headers beyond the HTTP essentials: what we send is what the
            # exchange says we sent.
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"))
        url = self.target.http_url.rstrip("/") + path
        async with self._http.request(method, url, data=body, headers=headers) as response:
            raw = await response.read()
            kept = {name: response.headers[name] for name in HEADERS_THAT_MATTER
                    if name in response.headers}
            return HttpAnswer(response.status, kept, _body(raw, response.content_type))

    # ------------------------------------------------------------------ time
    async def wait_for_cleaner(self, eligible_in: float = 0.0) -> None:
        """Sleep until data eligible ``eligible_in`` seconds from now has had time to be
        deleted: then two and a half cleaner passes more. Not recorded."""
        await asyncio.sleep(eligible_in + 2.5 * self.target.cleaner_interval)

    # ------------------------------------------------------------------ bookkeeping
    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        for client in self._clients:
            # Already logged out, or the connection is gone: nothing left to undo.
            with contextlib.suppress(TimeoutError, RuntimeError):
                await asyncio.wait_for(client.logout_user(), 5)
        # A logged-out SDK client reconnects for its next heartbeat; only dropping it
        # closes its connection, so the next scenario starts with no client connected.
        self._clients.clear()
        gc.collect()

    def _unique(self, step: str) -> str:
        if any(exchange["step"] == step for exchange in self.exchanges):
            raise StepError(f"step name used twice in one scenario: {step!r}")
        return step

    def _record(self, exchange: dict[str, Any], vary: tuple[str, ...]) -> None:
        if vary:
            exchange["vary"] = list(vary)
        self.exchanges.append(exchange)


def token_of(answer: HttpAnswer) -> str | None:
    """The access token of a login or refresh answer, None when there is none."""
    body = answer.body
    if answer.status == 200 and isinstance(body, dict):
        access = body.get("access_token")
        if isinstance(access, dict) and isinstance(access.get("token"), str):
            return access["token"]
    return None


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type == "application/json":
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if content_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return {"zip": sorted(archive.namelist())}
    return text_or_hex(raw)


def _summary(args: tuple, kwargs: dict) -> list:
    """The call's arguments as far as they are plain values; SDK objects by type name."""
    def one(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list | tuple):
            return [one(item) for item in value]
        return type(value).__name__

    return [one(a) for a in args] + [{key: one(value)} for key, value in sorted(kwargs.items())]
