"""Send and read messages in bounded, table-shaped steps for notebooks.

``produce`` sends a finite list and ``consume`` stops at ``count`` messages or at its
deadline, whichever comes first, so no cell can hang. Both return pandas DataFrames, which
is what notebooks show, filter and plot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
from apache_iggy import (
    Consumer,
    IggyClient,
    Partitioning,
    PollingStrategy,
    ReceiveMessage,
    SendMessage,
)
from tqdm.auto import tqdm

MessageLike = str | bytes | dict | list  # dicts and lists are sent as JSON text
Key = str | bytes | int  # str/bytes: a message key; int: a partition id
PartitioningLike = int | Partitioning | Callable[[Any], Key] | None

PROGRESS_THRESHOLD = 1000  # show a progress bar from this many messages on
POLL_PAUSE = 0.1  # seconds between polls that returned nothing

CONSUME_COLUMNS = ["offset", "partition", "timestamp", "payload", "headers", "id"]
PRODUCE_COLUMNS = ["partition", "offset", "key", "payload"]


async def produce(
    client: IggyClient,
    stream: str,
    topic: str,
    messages: Iterable[MessageLike],
    *,
    partitioning: PartitioningLike = None,
    headers: dict | None = None,
    batch_size: int = 100,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Send every message and return one row per message: partition, offset, key, payload.

    ``partitioning``: None = balanced (round-robin per batch: one batch goes to one
    partition, so use ``batch_size=1`` to spread single messages); an int = that partition;
    a ``Partitioning``; or a function of the message returning its key (str/bytes, hashed
    by the SDK) or its partition (int); each key's messages keep their order. ``headers``
    are attached to every message. Offsets come from the server's send confirmation;
    ``df.attrs["elapsed_s"]`` is the time the sends took.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    items = list(messages)
    key_of = partitioning if callable(partitioning) else None
    rows: list[dict] = [{}] * len(items)
    started = time.perf_counter()
    with _progress_bar(len(items), progress, "produce") as bar:
        for key, indexes in _batches(items, key_of, batch_size):
            target = _partitioning_for(partitioning if key_of is None else key)
            payloads = [_encode(items[i]) for i in indexes]
            response = await client.send_messages(
                stream, topic, target, [SendMessage(p, user_headers=headers) for p in payloads]
            )
            partition, base_offset = _confirmed(response, partitioning, key)
            for n, (i, payload) in enumerate(zip(indexes, payloads, strict=True)):
                rows[i] = {
                    "partition": partition,
                    "offset": None if base_offset is None else base_offset + n,
                    "key": key,
                    "payload": _decode(payload),
                }
            bar.update(len(indexes))
    frame = pd.DataFrame(rows, columns=PRODUCE_COLUMNS)
    frame = frame.astype({"partition": "Int64", "offset": "Int64"})
    frame.attrs["elapsed_s"] = time.perf_counter() - started
    return frame


async def consume(
    client: IggyClient,
    stream: str,
    topic: str,
    *,
    count: int,
    timeout: float = 5.0,
    consumer: str | int | Consumer = "course",
    partition_id: int | None = None,
    strategy: PollingStrategy | None = None,
    auto_commit: bool = False,
    batch: int = 100,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Poll until ``count`` messages arrived or ``timeout`` seconds passed; return a table.

    The first poll uses ``strategy`` (default ``PollingStrategy.Next()``: after the
    consumer's stored offset); later polls continue after the last message received, so
    nothing is read twice even without ``auto_commit``. ``partition_id=None`` reads
    partition 0, as the SDK does. A ``Consumer.Group`` reads its assigned partitions and
    keeps ``strategy`` for every poll (pass ``auto_commit=True`` so it advances). Columns:
    offset, partition, timestamp, payload, headers, id.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    who = consumer if isinstance(consumer, Consumer) else Consumer.Single(consumer)
    follow_offsets = not isinstance(who, Consumer.Group)
    polling = strategy or PollingStrategy.Next()
    received: list[ReceiveMessage] = []
    started = time.perf_counter()
    deadline = started + timeout
    with _progress_bar(count, progress, "consume") as bar:
        while len(received) < count and (remaining := deadline - time.perf_counter()) > 0:
            try:
                polled = await asyncio.wait_for(
                    client.poll_messages(
                        stream,
                        topic,
                        consumer=who,
                        polling_strategy=polling,
                        count=min(batch, count - len(received)),
                        auto_commit=auto_commit,
                        partition_id=partition_id,
                    ),
                    remaining,
                )
            except TimeoutError:
                break
            except RuntimeError as error:
                raise RuntimeError(
                    f"polling {stream}/{topic} failed: {error} "
                    "(does the topic exist? ensure_topic() creates it)"
                ) from None
            if not polled:
                await asyncio.sleep(min(POLL_PAUSE, max(0.0, deadline - time.perf_counter())))
                continue
            received.extend(polled)
            bar.update(len(polled))
            if follow_offsets:
                polling = PollingStrategy.Offset(polled[-1].offset() + 1)
    frame = messages_frame(received[:count])
    frame.attrs["elapsed_s"] = time.perf_counter() - started
    return frame


def messages_frame(messages: Sequence[ReceiveMessage]) -> pd.DataFrame:
    """Turn polled ``ReceiveMessage`` objects into a table (the columns ``consume`` gives).

    ``timestamp`` is the server's append time as a UTC datetime (it is microseconds on the
    wire); ``payload`` is text where it is UTF-8, else bytes; ``headers`` a plain dict or None.
    """
    return pd.DataFrame(
        {
            "offset": [m.offset() for m in messages],
            "partition": [m.partition_id() for m in messages],
            "timestamp": pd.to_datetime([m.timestamp() for m in messages], unit="us", utc=True),
            "payload": [_decode(m.payload()) for m in messages],
            "headers": [_plain_headers(m) for m in messages],
            "id": [m.id() for m in messages],
        },
        columns=CONSUME_COLUMNS,
    )


def _encode(item: MessageLike) -> str | bytes:
    if isinstance(item, (str, bytes)):
        return item
    if isinstance(item, (dict, list)):
        return json.dumps(item)
    raise TypeError(f"messages must be str, bytes, dict or list, not {type(item).__name__}")


def _decode(payload: str | bytes) -> str | bytes:
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload


def _plain_headers(message: ReceiveMessage) -> dict | None:
    headers = message.user_headers()
    if not headers:
        return None
    try:
        return headers.to_scalar_dict()
    except ValueError:  # two typed keys with the same plain value: keep the typed form
        return dict(headers)


def _batches(
    items: list, key_of: Callable[[Any], Key] | None, batch_size: int
) -> Iterable[tuple[Key | None, list[int]]]:
    """Per window of ``batch_size`` messages, one batch (of indexes) per key, in order."""
    for start in range(0, len(items), batch_size):
        by_key: dict[Key | None, list[int]] = {}
        for index in range(start, min(start + batch_size, len(items))):
            by_key.setdefault(key_of(items[index]) if key_of else None, []).append(index)
        yield from by_key.items()


def _partitioning_for(choice: Partitioning | Key | None) -> Partitioning:
    if choice is None:
        return Partitioning.balanced()
    if isinstance(choice, Partitioning):
        return choice
    if isinstance(choice, int):
        return Partitioning.partition_id(choice)
    return Partitioning.messages_key(choice)


def _confirmed(response: Any, partitioning: Any, key: Any) -> tuple[int | None, int | None]:
    """(partition, base offset) of a one-batch send, from the server's confirmation."""
    confirmations = response.confirmations if response is not None else []
    if len(confirmations) == 1:
        return confirmations[0].partition_id, confirmations[0].base_offset
    for known in (key, partitioning):  # no confirmation: the partition may still be known
        if isinstance(known, int) and not isinstance(known, bool):
            return known, None
    return None, None


def _progress_bar(total: int, progress: bool | None, label: str) -> tqdm:
    show = total >= PROGRESS_THRESHOLD if progress is None else progress
    return tqdm(total=total, desc=label, unit="msg", disable=not show, leave=False)
