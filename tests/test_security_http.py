"""HTTP bearer tokens: only a live token opens the API. Forged, expired and deleted tokens
get 401 (Iggy's http/error.rs maps Unauthenticated and token errors to 401), and wrong
passwords are refused (400, InvalidCredentials) at once, as on TCP. As on Iggy, a token
stays live until it expires: logging out or refreshing does not end it.

Each test uses a sandbox of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

ROOT = {"username": "iggy", "password": "iggy"}


@pytest_asyncio.fixture
async def http(fresh_sandbox) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session, fresh_sandbox.http_url


async def login(session: aiohttp.ClientSession, url: str, route: str = "/users/login",
                body: dict | None = None) -> str:
    async with session.post(url + route, json=body or ROOT) as response:
        assert response.status == 200, f"{route}: {response.status} {await response.text()}"
        return (await response.json())["access_token"]["token"]


async def status_with(session: aiohttp.ClientSession, url: str, token: str | None,
                      method: str = "GET", route: str = "/streams") -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with session.request(method, url + route, headers=headers) as response:
        return response.status


async def test_only_a_live_token_opens_the_api(http):
    session, url = http
    token = await login(session, url)
    assert await status_with(session, url, token) == 200
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for label, candidate in {"none": None, "empty": "", "forged": forged,
                             "another scheme": "x"}.items():
        headers = {} if candidate is None else {"Authorization": f"Bearer {candidate}"}
        if label == "another scheme":
            headers = {"Authorization": f"Basic {token}"}
        async with session.get(url + "/streams", headers=headers) as response:
            assert response.status == 401, f"{label} token: {response.status}"


async def test_a_token_outlives_a_logout_as_on_iggy(http):
    session, url = http
    token = await login(session, url)
    assert await status_with(session, url, token, "DELETE", "/users/logout") == 204
    assert await status_with(session, url, token) == 200


async def test_a_refresh_adds_a_token_and_keeps_the_old_one_as_on_iggy(http):
    session, url = http
    token = await login(session, url)
    async with session.post(url + "/users/refresh-token", json={"token": token}) as response:
        assert response.status == 200
        fresh = (await response.json())["access_token"]["token"]
    assert fresh != token
    assert await status_with(session, url, fresh) == 200
    assert await status_with(session, url, token) == 200


async def create_pat(session: aiohttp.ClientSession, url: str, token: str, name: str,
                     expiry_us: int) -> str:
    async with session.post(url + "/personal-access-tokens",
                            json={"name": name, "expiry": expiry_us},
                            headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, f"create PAT: {response.status} {await response.text()}"
        return (await response.json())["token"]


async def pat_login_status(session: aiohttp.ClientSession, url: str, pat: str) -> int:
    async with session.post(url + "/personal-access-tokens/login", json={"token": pat}) as reply:
        return reply.status


async def test_expired_personal_access_token_is_refused(http):
    session, url = http
    token = await login(session, url)
    short = await create_pat(session, url, token, "short-lived", 1_000_000)
    lasting = await create_pat(session, url, token, "long-lived", 3600 * 1_000_000)
    await asyncio.sleep(1.5)
    assert await pat_login_status(session, url, lasting) == 200
    assert await pat_login_status(session, url, short) == 401


async def test_deleted_personal_access_token_is_refused(http):
    session, url = http
    token = await login(session, url)
    pat = await create_pat(session, url, token, "revoked", 0)
    pat_session = await login(session, url, "/personal-access-tokens/login", {"token": pat})
    assert await status_with(session, url, pat_session) == 200
    assert await status_with(session, url, token, "DELETE",
                             "/personal-access-tokens/revoked") == 204
    assert await pat_login_status(session, url, pat) == 401


async def test_token_of_a_deleted_user_is_refused(http):
    session, url = http
    root = await login(session, url)
    headers = {"Authorization": f"Bearer {root}"}
    async with session.post(url + "/users", headers=headers, json={
            "username": "leaver", "password": "leaver-pass", "status": "active",
            "permissions": None}) as response:
        assert response.status == 200, await response.text()
        user_id = (await response.json())["id"]
    token = await login(session, url, body={"username": "leaver", "password": "leaver-pass"})
    assert await status_with(session, url, token, route="/personal-access-tokens") == 200
    assert await status_with(session, url, root, "DELETE", f"/users/{user_id}") == 204
    # The token is still well-formed and unexpired, but its user is gone: 403 Unauthorized,
    # as Iggy answers (401 is for a token that is not one)
    assert await status_with(session, url, token, route="/personal-access-tokens") == 403


async def test_wrong_password_is_refused_at_once_as_iggy_does(http):
    # no slow-down, as on Iggy 0.9: the old one made these eight take 7.75 s at least
    session, url = http
    durations = []
    for attempt in range(8):
        started = time.monotonic()
        async with session.post(url + "/users/login", json={
                "username": "iggy", "password": f"wrong-{attempt}"}) as response:
            # Iggy answers InvalidCredentials (42) with 400; only token errors are 401
            assert response.status == 400, f"wrong password: {response.status}"
            assert (await response.json())["id"] == 42
        durations.append(time.monotonic() - started)
    assert sum(durations) < 4.0, f"refusals took {[round(d, 3) for d in durations]} s"
    await login(session, url)  # the right password still works


@pytest.mark.parametrize("body", ["not json", "[]", '{"username": 5, "password": null}'])
async def test_malformed_login_is_a_client_error(http, body):
    session, url = http
    async with session.post(url + "/users/login", data=body,
                            headers={"Content-Type": "application/json"}) as response:
        assert 400 <= response.status < 500, f"{body!r}: {response.status}"
