"""Users and permissions (the security side of notebooks 01 and 08): create, log in as,
update, change passwords, grant and revoke, and what each permission allows."""

from __future__ import annotations

from apache_iggy import (
    Consumer,
    GlobalPermissions,
    Permissions,
    PollingStrategy,
    SendMessage,
    StreamPermissions,
    UserStatus,
)

from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

STREAM, TOPIC = "parity-users", "events"


@scenario
async def users_and_permissions_over_tcp(s: Session) -> None:
    root = await s.connect()
    await s.sdk("list the root user", root.get_users)
    await s.sdk("get root by id", root.get_user, 0)
    await s.sdk("create a stream", root.create_stream, STREAM)
    await s.sdk_raw("create a topic", root, commands.CREATE_TOPIC,
                    commands.create_topic(STREAM, TOPIC, 1), commands.created)
    await s.sdk("send a message", root.send_messages, STREAM, TOPIC, 0,
                [SendMessage("hello", id=1)])
    await s.sdk("create a reader (read streams, poll)", root.create_user, "parity-reader",
                "reader-pass-1", UserStatus.Active, Permissions(
                    GlobalPermissions(read_streams=True, read_topics=True,
                                      poll_messages=True)))
    await s.sdk("create a user with no permissions", root.create_user, "parity-nobody",
                "nobody-pass-1")
    await s.sdk("create an inactive user", root.create_user, "parity-inactive",
                "inactive-pass-1", UserStatus.Inactive)
    await s.sdk("create a user whose name exists", root.create_user, "parity-reader", "other-1")
    await s.sdk("create a user with a short password", root.create_user, "parity-short", "x")
    await s.sdk("create a user with an empty name", root.create_user, "", "some-pass-1")
    await s.sdk("list four users", root.get_users)
    await s.sdk("get the reader by name", root.get_user, "parity-reader")
    await s.sdk("get a missing user", root.get_user, "parity-missing")

    reader = await s.connect(login=False)
    await s.sdk("log in with a wrong password", reader.login_user, "parity-reader", "wrong-1")
    await s.sdk("log in as a missing user", reader.login_user, "parity-missing", "some-pass-1")
    inactive = await s.connect(login=False)
    await s.sdk("log in as the inactive user", inactive.login_user, "parity-inactive",
                "inactive-pass-1")
    await s.sdk("log in as the reader", reader.login_user, "parity-reader", "reader-pass-1")
    await s.sdk("the reader lists streams", reader.get_streams)
    await s.sdk("the reader polls", reader.poll_messages, STREAM, TOPIC,
                consumer=Consumer.Single("r"), polling_strategy=PollingStrategy.First(),
                count=5, auto_commit=False, partition_id=0)
    await s.sdk("the reader may not send", reader.send_messages, STREAM, TOPIC, 0,
                [SendMessage("nope", id=2)])
    await s.sdk("the reader may not create streams", reader.create_stream, "parity-no")
    await s.sdk("the reader may not list users", reader.get_users)
    await s.sdk("the reader may read itself", reader.get_user, "parity-reader")
    await s.sdk("the reader may not read others", reader.get_user, "parity-nobody")
    await s.sdk("the reader may not read stats", reader.get_stats)

    nobody = await s.connect("parity-nobody", "nobody-pass-1")
    await s.sdk("a user without permissions lists streams", nobody.get_streams)
    await s.sdk("a user without permissions gets a stream", nobody.get_stream, STREAM)
    await s.sdk("a user without permissions polls", nobody.poll_messages, STREAM, TOPIC,
                consumer=Consumer.Single("n"), polling_strategy=PollingStrategy.First(),
                count=5, auto_commit=False, partition_id=0)
    await s.sdk("grant sending on the stream only", root.update_permissions, "parity-nobody",
                Permissions(streams={0: StreamPermissions(send_messages=True,
                                                          read_stream=True)}))
    await s.sdk("get the user with stream permissions", root.get_user, "parity-nobody")
    await s.sdk("the stream-scoped user sends", nobody.send_messages, STREAM, TOPIC, 0,
                [SendMessage("granted", id=3)])
    await s.sdk("the stream-scoped user reads the stream", nobody.get_stream, STREAM)
    await s.sdk("revoke every permission", root.update_permissions, "parity-nobody", None)
    await s.sdk("sending is refused again", nobody.send_messages, STREAM, TOPIC, 0,
                [SendMessage("revoked", id=4)])
    created = await s.sdk_raw("a user without permissions creates a personal token", nobody,
                              commands.CREATE_PERSONAL_ACCESS_TOKEN,
                              commands.create_token("parity-nobody-pat", 0), commands.created)
    await s.sdk("rename a user", root.update_user, "parity-nobody", "parity-renamed")
    await s.sdk("deactivate a user", root.update_user, "parity-renamed",
                status=UserStatus.Inactive)
    await s.sdk("get the renamed, inactive user", root.get_user, "parity-renamed")
    # A user's status is checked when it logs in, not on every request
    await s.sdk("the deactivated user's open client reads itself", nobody.get_user,
                "parity-renamed")
    if created:
        await _log_in_with_token(s, "log in with the deactivated user's personal token",
                                 commands.token_reply(created)["token"])
    await s.sdk("change a password with the wrong current one", root.change_password,
                "parity-reader", "wrong-1", "reader-pass-2")
    await s.sdk("change a password", root.change_password, "parity-reader", "reader-pass-1",
                "reader-pass-2")
    again = await s.connect(login=False)
    await s.sdk("the old password no longer works", again.login_user, "parity-reader",
                "reader-pass-1")
    await s.sdk("the new password works", again.login_user, "parity-reader", "reader-pass-2")
    await s.sdk("root cannot be deleted", root.delete_user, 0)
    await s.sdk("root's permissions cannot change", root.update_permissions, 0, None)
    for name in ("parity-reader", "parity-renamed", "parity-inactive"):
        await s.sdk(f"delete {name}", root.delete_user, name)
    await s.sdk("a deleted user's open client lists streams", nobody.get_streams)
    await s.sdk("delete a missing user", root.delete_user, "parity-reader")
    await s.sdk("only root is left", root.get_users)
    await s.sdk("delete the stream", root.delete_stream, STREAM)


async def _log_in_with_token(s: Session, step: str, token: str) -> None:
    """Connect a new client that logs in with ``token``; the connect is the step."""
    await s.sdk(step, s.token_client(token).connect)


@scenario
async def users_over_http(s: Session) -> None:
    token = await s.http_login("log in as root")
    await s.http("list users", "GET", "/users", token=token)
    await s.http("get root by id", "GET", "/users/0", token=token)
    await s.http("get the caller as me", "GET", "/users/me", token=token)
    await s.http("create a user", "POST", "/users", json_body={
        "username": "parity-http-user", "password": "http-pass-1", "status": "active",
        "permissions": {"global": {"manage_servers": False, "read_servers": True,
                                   "manage_users": False, "read_users": True,
                                   "manage_streams": False, "read_streams": True,
                                   "manage_topics": False, "read_topics": True,
                                   "poll_messages": True, "send_messages": False},
                        "streams": None}}, token=token)
    await s.http("create a user whose name exists", "POST", "/users", json_body={
        "username": "parity-http-user", "password": "http-pass-1", "status": "active"},
        token=token)
    await s.http("create a user with a bad status", "POST", "/users", json_body={
        "username": "parity-bad", "password": "http-pass-1", "status": "sleepy"}, token=token)
    await s.http("create an inactive user", "POST", "/users", json_body={
        "username": "parity-http-inactive", "password": "http-pass-1", "status": "inactive"},
        token=token)
    await s.http("log in as the inactive user", "POST", "/users/login", json_body={
        "username": "parity-http-inactive", "password": "http-pass-1"})
    await s.http("delete the inactive user", "DELETE", "/users/parity-http-inactive",
                 token=token)
    user = await s.http_login("log in as the new user", "parity-http-user", "http-pass-1")
    await s.http("log in with a wrong password", "POST", "/users/login", json_body={
        "username": "parity-http-user", "password": "wrong-1"})
    await s.http("log in as a missing user", "POST", "/users/login", json_body={
        "username": "parity-missing", "password": "wrong-1"})
    await s.http("the new user reads itself as me", "GET", "/users/me", token=user)
    await s.http("the new user reads stats", "GET", "/stats", token=user)
    await s.http("the new user may not create streams", "POST", "/streams",
                 json_body={"name": "parity-no"}, token=user)
    await s.http("the new user may not create users", "POST", "/users", json_body={
        "username": "parity-sneaky", "password": "sneaky-pass-1", "status": "active"},
        token=user)
    created = await s.http("the new user creates a personal token", "POST",
                           "/personal-access-tokens",
                           json_body={"name": "parity-http-pat", "expiry": 0}, token=user)
    personal = created.body.get("token") if isinstance(created.body, dict) else None
    await s.http("update the user", "PUT", "/users/parity-http-user", json_body={
        "username": "parity-http-user-2", "status": "active"}, token=token)
    # A user's status is checked when it logs in: a token it already holds keeps working
    await s.http("deactivate the user", "PUT", "/users/parity-http-user-2",
                 json_body={"status": "inactive"}, token=token)
    await s.http("the deactivated user's token reads itself as me", "GET", "/users/me",
                 token=user)
    await s.http("log in with the deactivated user's personal token", "POST",
                 "/personal-access-tokens/login", json_body={"token": personal})
    await s.http("the deactivated user's personal token as a bearer token", "GET",
                 "/users/me", token=personal)
    await s.http("reactivate the user", "PUT", "/users/parity-http-user-2",
                 json_body={"status": "active"}, token=token)
    await s.http("set permissions", "PUT", "/users/parity-http-user-2/permissions",
                 json_body={"permissions": None}, token=token)
    await s.http("get the updated user", "GET", "/users/parity-http-user-2", token=token)
    await s.http("change the password", "PUT", "/users/parity-http-user-2/password",
                 json_body={"current_password": "http-pass-1", "new_password": "http-pass-2"},
                 token=token)
    await s.http("log in with the new password", "POST", "/users/login", json_body={
        "username": "parity-http-user-2", "password": "http-pass-2"})
    await s.http("delete the user", "DELETE", "/users/parity-http-user-2", token=token)
    await s.http("a deleted user's token reads itself as me", "GET", "/users/me", token=user)
    await s.http("delete a missing user", "DELETE", "/users/parity-http-user-2", token=token)
    await s.http("get a missing user", "GET", "/users/parity-http-user-2", token=token)
