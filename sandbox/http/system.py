"""Ping, stats, option catalogs, cluster metadata and connected clients."""

from __future__ import annotations

from aiohttp import web

from sandbox.errors import Code, IggyError
from sandbox.http.context import system_of, user_of
from sandbox.http.errors import not_found
from sandbox.http.jsonshapes import client_json, option_specs_json, stats_json
from sandbox.http.params import bad
from sandbox.state import permissions as perm
from sandbox.state.system import TRANSPORT_TCP

OPTION_SCOPES = ("topic", "stream", "user")

routes = web.RouteTableDef()


@routes.get("/ping")
async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong")


@routes.get("/stats")
async def get_stats(request: web.Request) -> web.Response:
    perm.read_servers(user_of(request))
    return web.json_response(stats_json(system_of(request).stats()))


@routes.get("/options/{scope}")
async def describe_options(request: web.Request) -> web.Response:
    scope = request.match_info["scope"]
    if scope not in OPTION_SCOPES:
        raise IggyError(Code.INVALID_COMMAND, field="scope")
    return web.json_response(option_specs_json(scope))


@routes.get("/cluster/metadata")
async def get_cluster_metadata(request: web.Request) -> web.Response:
    """One healthy leader node: the sandbox itself."""
    system = system_of(request)
    host, _, tcp_port = system.tcp_address.rpartition(":")
    http_port = system.http_address.rpartition(":")[2]
    node = {"name": "iggy-sandbox-node", "ip": host or "127.0.0.1",
            "endpoints": {"tcp": int(tcp_port or 0), "quic": 0, "http": int(http_port or 0),
                          "websocket": 0},
            "role": "leader", "status": "healthy"}
    return web.json_response({"name": "iggy-sandbox", "nodes": [node]})


@routes.get("/clients")
async def get_clients(request: web.Request) -> web.Response:
    perm.read_servers(user_of(request))
    sessions = sorted(system_of(request).sessions.values(), key=lambda s: s.client_id)
    return web.json_response([client_json(s) for s in sessions
                              if s.transport == TRANSPORT_TCP or s.user_id is not None])


@routes.get("/clients/{client_id}")
async def get_client(request: web.Request) -> web.Response:
    perm.read_servers(user_of(request))
    text = request.match_info["client_id"]
    if not (text.isascii() and text.isdigit()):
        raise bad("client_id")
    session = system_of(request).sessions.get(int(text))
    return web.json_response(client_json(session, details=True)) if session else not_found()
