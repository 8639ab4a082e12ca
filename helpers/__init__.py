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
    reset(client, prefix) -> list[str]           delete the streams and users named prefix...
    reset_all(client) -> list[str]               delete everything the course created
    course_streams(client) -> list[str]          the streams reset_all would delete
    course_users(client) -> list[str]            the users reset_all would delete
Messages (pandas DataFrames)
    produce(client, stream, topic, messages, *, partitioning=None, batch_size=100)
    consume(client, stream, topic, *, count, timeout=5.0, consumer="course", ...)
    messages_frame(received) -> DataFrame        raw poll_messages results as a table
Consumer offsets (the SDK 0.9.0 has no call for these)
    stored_offset(client, stream, topic, consumer="course", *, partition_id=0) -> int | None
    store_offset(client, stream, topic, offset, consumer="course", *, partition_id=0)
Raw bytes (what the SDK decodes for you)
    poll_raw(client, stream, topic, *, offset=0, count=100, partition_id=0) -> bytes
Personal access tokens (the SDK 0.9.0 has no call to create, list or delete them)
    create_personal_access_token(client, name, expiry=None) -> str   shown only once
    personal_access_tokens(client) -> list[TokenInfo]
    delete_personal_access_token(client, name)
HTTP REST API
    http_get(path, *, token=None), http_request(method, path, json=None, *, token=None)
    curl_login_command() -> str; HttpApiError (an error status, with .status and .reason)
Charts (matplotlib Figures; plots.draw_* draw the same on an Axes of your own)
    plots.offsets_per_partition, plots.partition_distribution, plots.consumer_lag,
    plots.throughput, plots.group_assignment, plots.retention, plots.payload_formats,
    plots.byte_layout, plots.draw_counts
Live views (redraw in place while a bounded background task runs; ``await view``)
    live.partition_fill, live.consumer_lag, live.group_members, live.throughput,
    live.segments, live.pipeline
    live.LiveView(sample, draw, title=..., until=..., work=..., seconds=...)
Exercises and sizes
    check(condition, *, ok=..., hint=...) -> bool
    solution(notebook)                           show one answer to a notebook's exercise
    size(small, full)                            small when COURSE_SMALL=1

Every function taking a client, and ``doctor``, is a coroutine: ``await`` it (top-level await
in Jupyter).
"""

from importlib import import_module
from typing import Any

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
from helpers.http import HttpApiError, curl_login_command, http_get, http_request
from helpers.offsets import store_offset, stored_offset
from helpers.resources import (
    course_name,
    course_streams,
    course_users,
    ensure_stream,
    ensure_topic,
    prefix,
    reset,
    reset_all,
)
from helpers.tokens import (
    TokenInfo,
    create_personal_access_token,
    delete_personal_access_token,
    personal_access_tokens,
)
from helpers.wire import poll_raw

# pandas and matplotlib take seconds to import, and the doctor brings platform and
# importlib.metadata: load them on first use, so the client scripts and
# `python -m coursekit.reset` (which need none of them) start quickly.
_LAZY = {
    "doctor": "coursekit.doctor",
    "consume": "helpers.messaging",
    "messages_frame": "helpers.messaging",
    "produce": "helpers.messaging",
    "plots": "helpers.plots",
    "live": "helpers.live",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    return module if name in ("plots", "live") else getattr(module, name)


__all__ = [
    "HttpApiError",
    "LoginFailed",
    "ServerInfo",
    "ServerNotAvailable",
    "TokenInfo",
    "check",
    "connect",
    "consume",
    "course_name",
    "course_streams",
    "course_users",
    "create_personal_access_token",
    "curl_login_command",
    "delete_personal_access_token",
    "doctor",
    "ensure_stream",
    "ensure_topic",
    "get_settings",
    "http_get",
    "http_request",
    "live",
    "messages_frame",
    "personal_access_tokens",
    "plots",
    "poll_raw",
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
