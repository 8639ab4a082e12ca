"""Create streams and topics idempotently, and clean up what a notebook created.

Every notebook names its streams (and the users it creates, which are global on the server)
with its own prefix ("nb01-orders", "nb09-reader", ...), so re-running a notebook or
cleaning up after it never touches anything else on the server. With COURSE_LEARNER set (a
classroom sharing one server) the learner's name comes first ("ana-nb01-orders"), so each
learner's resets delete only their own streams and users.
"""

from __future__ import annotations

from typing import Any

from apache_iggy import IggyClient, StreamDetails, TopicDetails

from coursekit.settings import get_settings

# Notebook NN names its streams "nbNN-..."; the clients/ scripts use "demo-stream".
COURSE_PREFIXES = (*(f"nb{n:02d}-" for n in range(100)), "demo-")
COURSE_PREFIXES_TEXT = '"nb00-" to "nb99-" (one per notebook) and "demo-" (the clients/ scripts)'


def course_name(name: str) -> str:
    """``name`` in the learner's namespace: "ana-demo-stream" with COURSE_LEARNER=ana."""
    learner = get_settings().learner
    return f"{learner}-{name}" if learner else name


def prefix(notebook: str) -> str:
    """The prefix of every stream notebook ``notebook`` ("nb03") creates: "nb03-", or
    "ana-nb03-" for learner ana."""
    return course_name(f"{notebook}-")


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
    """Delete every stream, then every user, whose name starts with ``prefix``; return the
    names deleted (streams first)."""
    if not prefix:
        raise ValueError("reset() needs a prefix such as 'nb01'; use reset_all() for the course")
    return await _delete(client, (prefix,))


async def reset_all(client: IggyClient) -> list[str]:
    """Delete every stream and user the course created for this learner; return their names."""
    return await _delete(client, _course_prefixes())


async def course_streams(client: IggyClient) -> list[str]:
    """The streams the course created for this learner: names starting with "nbNN-" or
    "demo-", after the learner's name when COURSE_LEARNER is set."""
    return await _stream_names(client, _course_prefixes())


async def course_users(client: IggyClient) -> list[str]:
    """The users the course created for this learner (named like its streams, "nb09-...")."""
    return await _user_names(client, _course_prefixes())


def _course_prefixes() -> tuple[str, ...]:
    return tuple(course_name(p) for p in COURSE_PREFIXES)


async def _stream_names(client: IggyClient, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(s.name for s in await client.get_streams() if s.name.startswith(prefixes))


async def _user_names(client: IggyClient, prefixes: tuple[str, ...]) -> list[str]:
    try:
        users = await client.get_users()
    except RuntimeError as error:
        if str(error) != "Unauthorized":
            raise
        return []  # a user who may not even list users cannot have created any
    return sorted(u.username for u in users if u.username.startswith(prefixes))


async def _delete(client: IggyClient, prefixes: tuple[str, ...]) -> list[str]:
    streams = await _stream_names(client, prefixes)
    users = await _user_names(client, prefixes)
    for name in streams:
        await client.delete_stream(name)
    for name in users:
        await client.delete_user(name)
    return streams + users
