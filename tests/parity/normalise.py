"""What legitimately varies between two runs of the same scenario, replaced by placeholders.

Everything not named here must match exactly. The rules, each with its reason:

- Times (``TIME_KEYS``; and 16-digit numbers in request paths and call arguments, which are
  microseconds since the epoch): the clock differs from run to run.
- Tokens (values of ``token`` keys, and ``Authorization: Bearer ...``): random or signed
  with the time. Each distinct token becomes ``<token-N>`` in order of first appearance,
  so a scenario still shows *which* token a request used.
- Message checksums (``checksum``): they cover the message's timestamp delta within its
  batch, which depends on the clock.
- Host and process facts (``HOST_KEYS``, in stats): pid, memory, disks, OS, version string;
  their JSON type is kept (``<host int>``, ``<host str>``).
- Connection facts (``CONNECTION_KEYS``, in client listings): ephemeral ports and ids.
- The snapshot file name (``Content-Disposition``) carries the time it was taken.
- Prometheus metrics: only the metric families (name and type) are compared, not values.
- Paths a step lists in ``vary`` (e.g. the random id the server gives a message sent with
  id 0): replaced by ``<varies>``.
"""

from __future__ import annotations

import re
from typing import Any

TIME_KEYS = frozenset({"created_at", "timestamp", "origin_timestamp", "expiry", "expiry_at",
                       "start_time"})
# A message's checksum covers its timestamp delta within the batch (clock-dependent).
CHECKSUM_KEYS = frozenset({"checksum"})
HOST_KEYS = frozenset({
    "process_id", "cpu_usage", "total_cpu_usage", "memory_usage", "total_memory",
    "available_memory", "run_time", "read_bytes", "written_bytes", "free_disk_space",
    "total_disk_space", "threads_count", "hostname", "os_name", "os_version", "kernel_version",
    "iggy_server_version", "iggy_server_semver",
})
CONNECTION_KEYS = frozenset({"client_id", "address"})
SENTINELS = frozenset({0, 2**64 - 1})  # "none" and "never": meaningful, never replaced
_EPOCH_MICROS = re.compile(r"(?<!\d)\d{16}(?!\d)")
_SNAPSHOT_NAME = re.compile(r"iggy_snapshot_\d{8}_\d{6}")
_METRIC_TYPE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)


class Tokens:
    """Gives each distinct token a stable placeholder within one scenario."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, token: str) -> str:
        return self.names.setdefault(token, f"<token-{len(self.names) + 1}>")


def normalise_scenario(exchanges: list[dict]) -> list[dict]:
    """The exchanges of one scenario run with every varying value replaced."""
    tokens = Tokens()
    return [_exchange(exchange, tokens) for exchange in exchanges]


def _exchange(exchange: dict, tokens: Tokens) -> dict:
    result = dict(exchange)
    if "request" in exchange:
        # Requests first: a token is numbered where it is first seen, in order.
        request = result["request"] = _values(exchange["request"], tokens, answer=False)
        request["path"] = _EPOCH_MICROS.sub("<time>", request["path"])
        _headers(request["headers"], tokens)
        response = result["response"] = _values(exchange["response"], tokens)
        _headers(response["headers"], tokens)
        response["body"] = _metric_families(response["body"])
    if "args" in exchange:
        result["args"] = _times_in_args(exchange["args"])
    if "result" in exchange:
        result["result"] = _values(exchange["result"], tokens)
    for path in exchange.get("vary", ()):
        _replace_path(result, path.split("."))
    return result


def _values(value: Any, tokens: Tokens, key: str | None = None, answer: bool = True) -> Any:
    """Tokens everywhere; times, host and connection facts only in answers (a request's
    ``expiry`` is a duration the scenario chose)."""
    if answer and key in HOST_KEYS:
        return f"<host {type(value).__name__}>"  # the value varies, its JSON type must not
    if isinstance(value, dict):
        return {k: _values(v, tokens, k, answer) for k, v in value.items()}
    if isinstance(value, list):
        return [_values(item, tokens, key, answer) for item in value]
    if key == "token" and isinstance(value, str):
        return tokens(value)
    if not answer:
        return value
    if key in TIME_KEYS and isinstance(value, int) and value not in SENTINELS:
        return "<time>"
    if key in CHECKSUM_KEYS and isinstance(value, int):
        return "<checksum>"
    if key in CONNECTION_KEYS and value is not None:
        return f"<{key}>"
    return value


def _headers(headers: dict[str, str], tokens: Tokens) -> None:
    for name, value in headers.items():
        if name.lower() == "authorization" and value.startswith("Bearer "):
            headers[name] = "Bearer " + tokens(value[len("Bearer "):])
        elif name.lower() == "content-disposition":
            headers[name] = _SNAPSHOT_NAME.sub("iggy_snapshot_<time>", value)


def _metric_families(body: Any) -> Any:
    """Prometheus text → ``{"metric_families": [[name, type], ...]}``; other bodies as given."""
    if isinstance(body, str) and "# TYPE " in body:
        return {"metric_families": sorted([name, kind] for name, kind in
                                          _METRIC_TYPE.findall(body))}
    return body


def _times_in_args(args: Any) -> Any:
    if isinstance(args, list):
        return [_times_in_args(item) for item in args]
    if isinstance(args, dict):
        return {key: _times_in_args(value) for key, value in args.items()}
    if isinstance(args, int) and not isinstance(args, bool) and 10**15 <= args < 10**16:
        return "<time>"
    return args


def _replace_path(value: Any, parts: list[str]) -> None:
    """Replace what ``parts`` (keys, list indexes, ``*`` for every item) names with
    ``<varies>``."""
    head, rest = parts[0], parts[1:]
    children: list[tuple[Any, Any]]
    if head == "*" and isinstance(value, list):
        children = list(enumerate(value))
    elif head.isdigit() and isinstance(value, list) and int(head) < len(value):
        children = [(int(head), value[int(head)])]
    elif isinstance(value, dict) and head in value:
        children = [(head, value[head])]
    else:
        return
    for key, child in children:
        if rest:
            _replace_path(child, rest)
        else:
            value[key] = "<varies>"
