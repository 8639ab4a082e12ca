"""Create streams and topics idempotently, and clean up what a notebook created.

Every notebook names its streams with its own prefix ("nb01-orders", ...), so re-running a
notebook or cleaning up after it never touches anything else on the server.
"""

from __future__ import annotations

from typing import Any

from apache_iggy import IggyClient, StreamDetails, TopicDetails

# Notebook NN names its streams "nbNN-..."; the clients/ scripts use "sample-stream".
COURSE_PREFIXES = (*(f"nb{n:02d}-" for n in range(100)), "sample-")
COURSE_PREFIXES_TEXT = '"nb00-" to "nb99-" (one per notebook) and "sample-" (the clients/ scripts)'


async def ensure_stream(client: IggyClient, name: str) -> StreamDetails:
    """Return the stream ``name``, creating it first if it does not exist yet."""
    stream = await client.get_stream(name)
    if stream is None:
        try:
            await client.create_stream(name=name)
        except RuntimeError:
            if await client.get_stream(name) is None:
                raise  # a real failure, not someone else creating it first
        stream = await client.get_stream(name)
    return stream


async def ensure_topic(
    client: IggyClient, stream: str, name: str, partitions: int = 1, **topic_settings: Any
) -> TopicDetails:
    """Return topic ``name`` of ``stream``, creating both if missing.

    ``topic_settings`` go to ``create_topic`` (``message_expiry=``, ``max_topic_size=``,
    ``segment_size=``, ...). An existing topic is returned as it is, so change settings by
    resetting the notebook's streams first.
    """
    await ensure_stream(client, stream)
    topic = await client.get_topic(stream, name)
    if topic is None:
        try:
            await client.create_topic(
                stream=stream, name=name, partitions_count=partitions, **topic_settings
            )
        except RuntimeError:
            if await client.get_topic(stream, name) is None:
                raise  # a real failure, not someone else creating it first
        topic = await client.get_topic(stream, name)
    return topic


async def reset(client: IggyClient, prefix: str) -> list[str]:
    """Delete every stream whose name starts with ``prefix``; return their names."""
    if not prefix:
        raise ValueError("reset() needs a prefix such as 'nb01'; use reset_all() for the course")
    return await _delete_streams(client, (prefix,))


async def reset_all(client: IggyClient) -> list[str]:
    """Delete every stream the course created (names starting with "nbNN-" or "sample-")."""
    return await _delete_streams(client, COURSE_PREFIXES)


async def _delete_streams(client: IggyClient, prefixes: tuple[str, ...]) -> list[str]:
    names = sorted(s.name for s in await client.get_streams() if s.name.startswith(prefixes))
    for name in names:
        await client.delete_stream(name)
    return names
