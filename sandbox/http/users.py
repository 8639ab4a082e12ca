"""Users: list, create, get, update, delete, change password, set permissions.

Reading your own user needs no permission (by id or name), as in Iggy.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.jsonshapes import user_json
from sandbox.http.params import (
    json_object,
    path_id,
    permissions,
    string_options,
    text_field,
    user_status,
)

routes = web.RouteTableDef()
USER = "/users/{user_id}"
NO_CONTENT = 204


@routes.get("/users")
async def get_users(request: web.Request) -> web.Response:
    return web.json_response([user_json(u) for u in system_of(request).get_users(
        user_of(request))])


@routes.post("/users")
async def create_user(request: web.Request) -> web.Response:
    body = await json_object(request)
    user = await system_of(request).create_user(
        user_of(request), text_field(body, "username", Code.INVALID_USERNAME),
        text_field(body, "password", Code.INVALID_PASSWORD),
        user_status(body.get("status", "active")), permissions(body.get("permissions")))
    return web.json_response(user_json(user, details=True))


@routes.get(USER)
async def get_user(request: web.Request) -> web.Response:
    system, caller = system_of(request), user_of(request)
    ident = path_id(request, "user_id")
    if system.find_user(ident) is caller:
        return web.json_response(user_json(caller, details=True))
    user = system.get_user(caller, ident)
    return web.json_response(user_json(user, details=True)) if user else not_found()


@routes.put(USER)
async def update_user(request: web.Request) -> web.Response:
    body = await json_object(request)
    username = body.get("username")
    if username is not None:
        username = text_field(body, "username", Code.INVALID_USERNAME)
    status = body.get("status")
    system_of(request).update_user(
        user_of(request), path_id(request, "user_id"), username,
        None if status is None else user_status(status), string_options(body))
    return web.Response(status=NO_CONTENT)


@routes.delete(USER)
async def delete_user(request: web.Request) -> web.Response:
    system_of(request).delete_user(user_of(request), path_id(request, "user_id"))
    return web.Response(status=NO_CONTENT)


@routes.put(USER + "/password")
async def change_password(request: web.Request) -> web.Response:
    body = await json_object(request)
    await system_of(request).change_password(
        user_of(request), path_id(request, "user_id"),
        text_field(body, "current_password", Code.INVALID_PASSWORD),
        text_field(body, "new_password", Code.INVALID_PASSWORD))
    return web.Response(status=NO_CONTENT)


@routes.put(USER + "/permissions")
async def update_permissions(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_of(request).update_permissions(user_of(request), path_id(request, "user_id"),
                                          permissions(body.get("permissions")))
    return web.Response(status=NO_CONTENT)
