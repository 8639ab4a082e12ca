"""Access tokens and personal access tokens (notebook 08): log in, refresh, log out, create
a personal token, use it as a bearer token and to log in, over HTTP and TCP."""

from __future__ import annotations

import asyncio

from tests.parity.exchange import CLIENT_TIMEOUT, Session, token_of
from tests.parity.scenarios import commands, scenario

HOUR_MICROS = 3_600_000_000


@scenario
async def access_tokens_over_http(s: Session) -> None:
    first = await s.http_login("log in")
    await s.http("use the token", "GET", "/streams", token=first)
    refreshed = token_of(await s.http("refresh the token", "POST", "/users/refresh-token",
                                      json_body={"token": first}))
    await s.http("use the refreshed token", "GET", "/streams", token=refreshed)
    await s.http("the old token still works after a refresh", "GET", "/streams", token=first)
    await s.http("refresh with a made-up token", "POST", "/users/refresh-token",
                 json_body={"token": "not-a-token"})
    await s.http("refresh with an empty token", "POST", "/users/refresh-token",
                 json_body={"token": ""})
    await s.http("log out", "DELETE", "/users/logout", token=first)
    await s.http("use the token after logging out", "GET", "/streams", token=first)
    await s.http("the refreshed token is still valid", "GET", "/streams", token=refreshed)
    await s.http("no Authorization header", "GET", "/streams")
    await s.http("a token that is not one", "GET", "/streams", token="not-a-token")
    await s.http("a Basic Authorization header", "GET", "/streams",
                 headers={"Authorization": "Basic aWdneTppZ2d5"})
    await s.http("log in with a missing field", "POST", "/users/login",
                 json_body={"username": "iggy"})


@scenario
async def personal_access_tokens_over_http(s: Session) -> None:
    token = await s.http_login("log in")
    url = "/personal-access-tokens"
    await s.http("no personal tokens yet", "GET", url, token=token)
    created = await s.http("create a personal token", "POST", url,
                           json_body={"name": "parity-pat", "expiry": 0}, token=token)
    personal = created.body.get("token") if isinstance(created.body, dict) else None
    await s.http("create one that expires in an hour", "POST", url,
                 json_body={"name": "parity-hour", "expiry": HOUR_MICROS}, token=token)
    await s.http("create one whose name exists", "POST", url,
                 json_body={"name": "parity-pat", "expiry": 0}, token=token)
    await s.http("create one with an empty name", "POST", url,
                 json_body={"name": "", "expiry": 0}, token=token)
    await s.http("list personal tokens", "GET", url, token=token)
    await s.http("use the personal token as a bearer token", "GET", "/streams",
                 token=personal)
    await s.http("log in with the personal token", "POST", "/personal-access-tokens/login",
                 json_body={"token": personal})
    await s.http("log in with a made-up personal token", "POST",
                 "/personal-access-tokens/login", json_body={"token": "not-a-token"})
    expired = await s.http("create one that expires at once", "POST", url,
                           json_body={"name": "parity-gone", "expiry": 1}, token=token)
    stale = expired.body.get("token") if isinstance(expired.body, dict) else None
    await asyncio.sleep(0.01)
    await s.http("log in with an expired personal token", "POST",
                 "/personal-access-tokens/login", json_body={"token": stale})
    await s.http("an expired personal token as a bearer token", "GET", "/streams",
                 token=stale)
    await s.http("delete the expired token", "DELETE", f"{url}/parity-gone", token=token)
    await s.http("delete the personal token", "DELETE", f"{url}/parity-pat", token=token)
    await s.http("the deleted personal token is refused", "GET", "/streams", token=personal)
    await s.http("delete it again", "DELETE", f"{url}/parity-pat", token=token)
    await s.http("delete the hour-long token", "DELETE", f"{url}/parity-hour", token=token)
    await s.http("no personal tokens left", "GET", url, token=token)


@scenario
async def personal_access_tokens_over_tcp(s: Session) -> None:
    client = await s.connect()
    await s.sdk_raw("no personal tokens yet", client, commands.GET_PERSONAL_ACCESS_TOKENS, b"",
                    commands.tokens_reply)
    reply = await s.sdk_raw("create a personal token", client,
                            commands.CREATE_PERSONAL_ACCESS_TOKEN,
                            commands.create_token("parity-tcp-pat", 0), commands.token_reply)
    await s.sdk_raw("create one whose name exists", client,
                    commands.CREATE_PERSONAL_ACCESS_TOKEN,
                    commands.create_token("parity-tcp-pat", 0), commands.token_reply)
    await s.sdk_raw("list personal tokens", client, commands.GET_PERSONAL_ACCESS_TOKENS, b"",
                    commands.tokens_reply)
    if reply:
        personal = commands.token_reply(reply)["token"]
        with_token = s.token_client(personal)
        await s.sdk("connect and log in with the personal token", with_token.connect)
        await s.sdk("the token's user lists streams", with_token.get_streams)
        await asyncio.wait_for(with_token.logout_user(), CLIENT_TIMEOUT)
    await s.sdk_raw("delete the personal token", client,
                    commands.DELETE_PERSONAL_ACCESS_TOKEN, commands.delete_token("parity-tcp-pat"))
    await s.sdk_raw("delete it again", client, commands.DELETE_PERSONAL_ACCESS_TOKEN,
                    commands.delete_token("parity-tcp-pat"))
    await s.sdk_raw("no personal tokens left", client, commands.GET_PERSONAL_ACCESS_TOKENS, b"",
                    commands.tokens_reply)
