"""Who may do what: Iggy's permissioner rules over a user's global and per-stream grants.

Each check raises Unauthorized (41) when no grant allows the action, mirroring the
inheritance chains of Iggy 0.9 (manage_streams > read_streams > read_topics > poll, and
manage_streams > manage_topics > send).
"""

from __future__ import annotations

from sandbox.errors import Code, IggyError
from sandbox.state.model import GlobalPermissions, Permissions, StreamPermissions, User

_NONE = GlobalPermissions()


def _grants(user: User, stream_id: int | None = None) -> tuple[GlobalPermissions,
                                                                StreamPermissions | None]:
    permissions: Permissions | None = user.permissions
    if permissions is None:
        return _NONE, None
    stream = None
    if stream_id is not None and permissions.streams:
        stream = permissions.streams.get(stream_id)
    return permissions.global_, stream


def _require(allowed: bool) -> None:
    if not allowed:
        raise IggyError(Code.UNAUTHORIZED)


def read_servers(user: User) -> None:
    g, _ = _grants(user)
    _require(g.manage_servers or g.read_servers)


def read_users(user: User) -> None:
    g, _ = _grants(user)
    _require(g.manage_users or g.read_users)


def manage_users(user: User) -> None:
    g, _ = _grants(user)
    _require(g.manage_users)


def read_streams(user: User) -> None:
    g, _ = _grants(user)
    _require(g.manage_streams or g.read_streams)


def read_stream(user: User, stream_id: int) -> None:
    g, s = _grants(user, stream_id)
    _require(g.manage_streams or g.read_streams or bool(s and (s.manage_stream or s.read_stream)))


def create_stream(user: User) -> None:
    g, _ = _grants(user)
    _require(g.manage_streams)


def manage_stream(user: User, stream_id: int) -> None:
    g, s = _grants(user, stream_id)
    _require(g.manage_streams or bool(s and s.manage_stream))


def read_topics(user: User, stream_id: int) -> None:
    g, s = _grants(user, stream_id)
    _require(g.read_streams or g.manage_streams or g.manage_topics or g.read_topics or bool(
        s and (s.manage_stream or s.read_stream or s.manage_topics or s.read_topics)))


def read_topic(user: User, stream_id: int, topic_id: int) -> None:
    g, s = _grants(user, stream_id)
    if g.read_streams or g.manage_streams or g.manage_topics or g.read_topics:
        return
    if s and (s.manage_stream or s.read_stream or s.manage_topics or s.read_topics):
        return
    t = s.topics.get(topic_id) if s and s.topics else None
    _require(bool(t and (t.manage_topic or t.read_topic)))


def create_topic(user: User, stream_id: int) -> None:
    g, s = _grants(user, stream_id)
    _require(g.manage_streams or g.manage_topics or bool(s and (s.manage_stream
                                                               or s.manage_topics)))


def manage_topic(user: User, stream_id: int, topic_id: int) -> None:
    g, s = _grants(user, stream_id)
    if g.manage_streams or g.manage_topics or (s and (s.manage_stream or s.manage_topics)):
        return
    t = s.topics.get(topic_id) if s and s.topics else None
    _require(bool(t and t.manage_topic))


def poll_messages(user: User, stream_id: int, topic_id: int) -> None:
    g, s = _grants(user, stream_id)
    if g.poll_messages or g.read_topics or g.manage_topics or g.read_streams or g.manage_streams:
        return
    if s and (s.poll_messages or s.manage_stream or s.read_stream or s.manage_topics
              or s.read_topics):
        return
    t = s.topics.get(topic_id) if s and s.topics else None
    _require(bool(t and (t.manage_topic or t.read_topic or t.poll_messages)))


def send_messages(user: User, stream_id: int, topic_id: int) -> None:
    g, s = _grants(user, stream_id)
    if g.send_messages or g.manage_streams or g.manage_topics:
        return
    if s and (s.send_messages or s.manage_stream or s.manage_topics):
        return
    t = s.topics.get(topic_id) if s and s.topics else None
    _require(bool(t and (t.manage_topic or t.send_messages)))
