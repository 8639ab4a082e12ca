"""Ping, stats, option catalogs, cluster metadata and connected clients.

``/clients`` lists the binary-protocol connections: HTTP callers are not clients (as on
Iggy, where a bearer token is not a connection).
"""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import json_reply, not_found
from sandbox.http.jsonshapes import client_json, option_specs_json, stats_json
from sandbox.http.params import path_u32
from sandbox.state import permissions as perm

OPTION_SCOPES = ("topic", "stream", "user")

routes = web.RouteTableDef()


@routes.get("/ping")
async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong", charset="utf-8")


@routes.get("/stats")
async def get_stats(request: web.Request) -> web.Response:
    perm.read_servers(user_of(request))
    return json_reply(stats_json(system_of(request).stats()))


@routes.get("/options/{scope}")
async def describe_options(request: web.Request) -> web.Response:
    scope = request.match_info["scope"]
    if scope not in OPTION_SCOPES:
        raise IggyError(Code.INVALID_COMMAND)
    return json_reply(option_specs_json(scope))


@routes.get("/cluster/metadata")
async def get_cluster_metadata(request: web.Request) -> web.Response:
    node = system_of(request).cluster_node()
    return json_reply({"name": node["cluster"], "nodes": [{
        "name": node["name"], "ip": node["ip"],
        "endpoints": {port: node[port] for port in ("tcp", "quic", "http", "websocket")},
        "role": "leader", "status": "healthy"}]})


@routes.get("/clients")
async def get_clients(request: web.Request) -> web.Response:
    sessions = system_of(request).get_clients(user_of(request))
    return json_reply([client_json(s) for s in sessions])


@routes.get("/clients/{client_id}")
async def get_client(request: web.Request) -> web.Response:
    client_id = path_u32(request, "client_id")
    session = system_of(request).get_client(user_of(request), client_id)
    return json_reply(client_json(session, details=True)) if session else not_found()
