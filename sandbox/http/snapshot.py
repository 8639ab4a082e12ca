"""``POST /snapshot``: a zip of diagnostic text files, one per requested type, as Iggy's.

Iggy collects the file system, the process list, resource usage, its logs and its config
by running shell commands; the sandbox writes what it knows of each from Python, under the
same names (``test.txt``, ``process_list.txt``, ...). ``All`` means every type but ``Test``
and may not be combined with others.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

from aiohttp import web

from sandbox import hoststats
from sandbox.errors import Code, IggyError
from sandbox.http import bodies
from sandbox.http.context import system_of, user_of
from sandbox.http.jsonbody import read_json
from sandbox.state import permissions as perm
from sandbox.state.system import System

routes = web.RouteTableDef()
FILE_NAMES = {"FilesystemOverview": "filesystem_overview", "ProcessList": "process_list",
              "ResourceUsage": "resource_usage", "Test": "test", "ServerLogs": "server_logs",
              "ServerConfig": "server_config"}
EVERYTHING = ("FilesystemOverview", "ProcessList", "ResourceUsage", "ServerLogs",
              "ServerConfig")
# Python's zipfile has no Zstandard or XZ: those fall back to Deflate.
METHODS = {"Stored": zipfile.ZIP_STORED, "Deflated": zipfile.ZIP_DEFLATED,
           "Bzip2": zipfile.ZIP_BZIP2, "Lzma": zipfile.ZIP_LZMA}


@routes.post("/snapshot")
async def get_snapshot(request: web.Request) -> web.Response:
    body = await read_json(request, bodies.GET_SNAPSHOT)
    perm.read_servers(user_of(request))
    kinds = body["snapshot_types"]
    if "All" in kinds:
        if len(kinds) > 1:
            raise IggyError(Code.INVALID_COMMAND)
        kinds = list(EVERYTHING)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", METHODS.get(body["compression"], zipfile.ZIP_DEFLATED)
                         ) as zipped:
        for kind in kinds:
            zipped.writestr(f"{FILE_NAMES[kind]}.txt", _section(kind, system_of(request)))
    name = time.strftime("iggy_snapshot_%Y%m%d_%H%M%S.zip")
    return web.Response(body=archive.getvalue(), content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _section(kind: str, system: System) -> str:
    if kind == "Test":
        return "test\n"
    if kind == "FilesystemOverview":
        root = system.data_dir
        if root is None:
            return "in-memory sandbox: no data directory\n"
        return "".join(f"{path}\n" for path, _, _ in os.walk(root))
    if kind in ("ProcessList", "ResourceUsage"):
        return json.dumps(hoststats.process_stats(), indent=2) + "\n"
    if kind == "ServerLogs":
        return "the sandbox writes its log to stderr (see the file the launcher gave it)\n"
    return json.dumps({"tcp": system.tcp_address, "http": system.http_address,
                       "data_dir": str(system.data_dir)}, indent=2) + "\n"
