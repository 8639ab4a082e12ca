"""Talk to the server's HTTP REST API (port 3000) with the standard library.

Iggy's REST API wants a bearer token from ``POST /users/login``; the token is cached per
server and user, and fetched again once when the server answers 401 (tokens do not
survive a restart).
"""

from __future__ import annotations

import json as jsonlib
import shlex
import urllib.error
import urllib.request
from typing import Any

from coursekit.settings import get_settings
from helpers.connection import LoginFailed, ServerNotAvailable

HTTP_TIMEOUT = 10.0  # seconds per request

_tokens: dict[tuple[str, str], str] = {}  # (base URL, username) -> bearer token


class HttpApiError(RuntimeError):
    """The REST API answered with an error status; ``status`` and Iggy's ``reason`` kept."""

    def __init__(self, status: int, method: str, url: str, reason: str):
        super().__init__(f"{method} {url} failed with HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


def http_get(path: str, *, base_url: str | None = None, token: str | None = None) -> Any:
    """GET ``path`` (e.g. "/streams") as the course user, or with bearer ``token``, and
    return the decoded JSON."""
    return http_request("GET", path, base_url=base_url, token=token)


def http_request(
    method: str, path: str, json: Any = None, *, base_url: str | None = None,
    token: str | None = None,
) -> Any:
    """Send an authenticated request with an optional JSON body; return decoded JSON.

    Logs in as the course user, unless ``token`` is given: then that bearer token (an access
    token of another user, or a personal access token) goes as it is, and nothing is retried.
    Returns None for an empty answer and the text for a non-JSON one (``/ping`` → "pong").
    Raises ``HttpApiError`` for an error status, ``ServerNotAvailable`` when nothing answers.
    """
    settings = get_settings()
    base = (base_url or settings.http_url).rstrip("/")
    url = base + (path if path.startswith("/") else "/" + path)
    if token is not None:
        return _send(method, url, json, token)
    cached = _tokens.get((base, settings.username))
    try:
        return _send(method, url, json, cached or _fresh_token(base))
    except HttpApiError as error:
        if error.status != 401 or cached is None:
            raise
    # The cached token expired or the server restarted since: log in again, once.
    return _send(method, url, json, _fresh_token(base))


def curl_login_command(base_url: str | None = None, *, show: bool = True) -> str:
    """A curl command that logs in over HTTP (the token is at .access_token.token).

    Printed unless ``show=False``; returned too, so a notebook can build on it.
    """
    settings = get_settings()
    base = (base_url or settings.http_url).rstrip("/")
    body = jsonlib.dumps({"username": settings.username, "password": settings.password})
    command = (
        f"curl -s -X POST {base}/users/login "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )
    if show:
        print(command)
    return command


def _fresh_token(base: str) -> str:
    """Log in over HTTP as the configured user and cache the bearer token."""
    settings = get_settings()
    username = settings.username
    body = {"username": username, "password": settings.password}
    try:
        answer = _send("POST", f"{base}/users/login", body, token=None)
    except HttpApiError as error:
        if error.status in (400, 401, 403, 404):
            raise LoginFailed(
                f"The REST API at {base} refused user {username!r} ({error.reason}). "
                "Set IGGY_USERNAME and IGGY_PASSWORD to the server's root user."
            ) from None
        raise
    token = answer["access_token"]["token"]
    _tokens[(base, username)] = token
    return token


def _send(method: str, url: str, body: Any, token: str | None) -> Any:
    data = None if body is None else jsonlib.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method.upper())
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise HttpApiError(error.code, method, url, _reason(error)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ServerNotAvailable(
            f"No HTTP answer from {url} ({reason}). Is the server running, and is "
            "IGGY_HTTP_URL right? Start one with `make lab` or `docker compose up -d`."
        ) from None
    if not raw:
        return None
    try:
        return jsonlib.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _reason(error: urllib.error.HTTPError) -> str:
    """Iggy's error JSON is {"id", "code", "reason", "field"}; fall back to the raw text."""
    text = error.read().decode(errors="replace")
    try:
        return jsonlib.loads(text).get("reason") or text
    except (ValueError, AttributeError):
        return text or str(error.reason)
