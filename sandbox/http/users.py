"""Users: list, create, get (``me`` is the caller), update, delete, change password, set
permissions.

Reading your own user needs no permission (by id, name or ``me``), as in Iggy.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply, not_found
from sandbox.http.jsonbody import read_json
from sandbox.http.jsonshapes import user_json
from sandbox.http.params import path_id, permissions, string_options

routes = web.RouteTableDef()
USER = "/users/{user_id}"
NO_CONTENT = 204
CURRENT_USER = "me"


@routes.get("/users")
async def get_users(request: web.Request) -> web.Response:
    return json_reply([user_json(u) for u in system_of(request).get_users(user_of(request))])


@routes.post("/users")
async def create_user(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CREATE_USER)
    user = await system_of(request).create_user(
        user_of(request), body["username"], body["password"], body["status"] == "active",
        permissions(body["permissions"]))
    return json_reply(user_json(user, details=True))


@routes.get(USER)
async def get_user(request: web.Request) -> web.Response:
    caller = user_of(request)
    if request.match_info["user_id"] == CURRENT_USER:
        return json_reply(user_json(caller, details=True))
    user = system_of(request).get_user(caller, path_id(request, "user_id"))
    return json_reply(user_json(user, details=True)) if user else not_found()


@routes.put(USER)
async def update_user(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.UPDATE_USER)
    status = body["status"]
    system_of(request).update_user(
        user_of(request), path_id(request, "user_id"), body["username"],
        None if status is None else status == "active", string_options(body["options"]))
    return web.Response(status=NO_CONTENT)


@routes.delete(USER)
async def delete_user(request: web.Request) -> web.Response:
    system_of(request).delete_user(user_of(request), path_id(request, "user_id"))
    return web.Response(status=NO_CONTENT)


@routes.put(USER + "/password")
async def change_password(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.CHANGE_PASSWORD)
    await system_of(request).change_password(
        user_of(request), path_id(request, "user_id"), body["current_password"],
        body["new_password"])
    return web.Response(status=NO_CONTENT)


@routes.put(USER + "/permissions")
async def update_permissions(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.UPDATE_PERMISSIONS)
    system_of(request).update_permissions(user_of(request), path_id(request, "user_id"),
                                          permissions(body["permissions"]))
    return web.Response(status=NO_CONTENT)
