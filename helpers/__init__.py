"""What the course notebooks import: ``from helpers import *`` or ``import helpers``.

Connection
    connect(address=None, *, username=None, password=None, autostart=None) -> IggyClient
    doctor() -> bool                             check the setup, one line and fix per check
    server_info(client) -> ServerInfo            kind "sandbox" | "apache-iggy", version
    restart_server(client_or_info) -> ServerInfo restart, wait until it answers again
Streams and topics
    prefix(notebook) -> str                      "nb03-" (or "ana-nb03-" for COURSE_LEARNER=ana)
    course_name(name) -> str                     name in the learner's namespace
    ensure_stream(client, name)                  create if missing, return the details
    ensure_topic(client, stream, name, partitions=1, **settings) -> TopicDetails
    reset(client, prefix) -> list[str]           delete the streams named prefix...
    reset_all(client) -> list[str]               delete everything the course created
    course_streams(client) -> list[str]          the names reset_all would delete
Messages (pandas DataFrames)
    produce(client, stream, topic, messages, *, partitioning=None, batch_size=100)
    consume(client, stream, topic, *, count, timeout=5.0, consumer="course", ...)
    messages_frame(received) -> DataFrame        raw poll_messages results as a table
Consumer offsets (the SDK 0.9.0 has no call for these)
    stored_offset(client, stream, topic, consumer="course", *, partition_id=0) -> int | None
    store_offset(client, stream, topic, offset, consumer="course", *, partition_id=0)
HTTP REST API
    http_get(path), http_request(method, path, json=None), curl_login_command() -> str
Charts (matplotlib Figures)
    plots.offsets_per_partition, plots.partition_distribution, plots.consumer_lag,
    plots.throughput, plots.group_assignment
Exercises and sizes
    check(condition, *, ok=..., hint=...) -> bool
    solution(notebook)                           show one answer to a notebook's exercise
    size(small, full)                            small when COURSE_SMALL=1

Every function taking a client, and ``doctor``, is a coroutine: ``await`` it (top-level await
in Jupyter).
"""

from importlib import import_module
from typing import Any

from coursekit.doctor import doctor
from coursekit.server_control import restart_server
from coursekit.settings import get_settings, size
from helpers.connection import (
    LoginFailed,
    ServerInfo,
    ServerNotAvailable,
    connect,
    server_info,
)
from helpers.exercises import check, solution
from helpers.http import curl_login_command, http_get, http_request
from helpers.offsets import store_offset, stored_offset
from helpers.resources import (
    course_name,
    course_streams,
    ensure_stream,
    ensure_topic,
    prefix,
    reset,
    reset_all,
)

# pandas and matplotlib take seconds to import: load them on first use, so the client
# scripts and `python -m coursekit.reset` (which need neither) start quickly.
_LAZY = {
    "consume": "helpers.messaging",
    "messages_frame": "helpers.messaging",
    "produce": "helpers.messaging",
    "plots": "helpers.plots",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    return module if name == "plots" else getattr(module, name)


__all__ = [
    "LoginFailed",
    "ServerInfo",
    "ServerNotAvailable",
    "check",
    "connect",
    "consume",
    "course_name",
    "course_streams",
    "curl_login_command",
    "doctor",
    "ensure_stream",
    "ensure_topic",
    "get_settings",
    "http_get",
    "http_request",
    "messages_frame",
    "plots",
    "prefix",
    "produce",
    "reset",
    "reset_all",
    "restart_server",
    "server_info",
    "size",
    "solution",
    "store_offset",
    "stored_offset",
]
