"""The one object both fronts call: holds the state, saves it, and runs the cleaner."""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sandbox import __version__
from sandbox import hoststats as host
from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state import retention, snapshot
from sandbox.state.groups import GroupsMixin
from sandbox.state.messages import MessagesMixin
from sandbox.state.model import (
    Permissions,
    PersonalAccessToken,
    Session,
    Stream,
    Topic,
    User,
    now_micros,
)
from sandbox.state.refusals import WriteRefusals
from sandbox.state.saved import SavedMetadata
from sandbox.state.saved import partitions as all_partitions
from sandbox.state.streams import StreamsMixin
from sandbox.state.users import _HASHER, ROOT_USER_ID, UsersMixin
from sandbox.storage import metadata
from sandbox.storage.space import SpaceGuard

log = logging.getLogger("sandbox")

TRANSPORT_TCP, TRANSPORT_HTTP = 1, 3


@dataclass(frozen=True, slots=True)
class Counts:
    """How much the state holds, counted in memory (the stats and the metrics)."""

    streams: int
    topics: int
    partitions: int
    segments: int
    messages: int
    messages_size_bytes: int
    consumer_groups: int
    clients: int
    users: int


class System(StreamsMixin, UsersMixin, GroupsMixin, MessagesMixin):
    """Everything the server knows. Methods run on the event loop, one at a time."""

    def __init__(self, data_dir: Path | None, root_username: str = "iggy",
                 root_password: str = "iggy",
                 max_message_size: int = retention.DEFAULT_MAX_MESSAGE_SIZE):
        self.data_dir = data_dir
        self.max_message_size = max_message_size  # sets the size cap's floor
        self._reported_floors: set[tuple[int, int, int]] = set()
        self.streams: dict[int, Stream] = {}
        self.users: dict[int, User] = {}
        self.tokens: dict[tuple[int, str], PersonalAccessToken] = {}
        self.sessions: dict[int, Session] = {}
        self._client_ids = itertools.count(1)
        self.started_at = now_micros()
        self.counters = {"read_bytes": 0, "written_bytes": 0}
        self.tcp_address = self.http_address = ""  # set by the fronts once bound
        self.refusals = WriteRefusals(data_dir)
        self.space = SpaceGuard(data_dir) if data_dir else None
        document = metadata.load(data_dir) if data_dir else None
        if document is None:
            self.users[ROOT_USER_ID] = User(ROOT_USER_ID, root_username,
                                            _HASHER.hash(root_password), now_micros(), True,
                                            Permissions.root())
            self._write_metadata()  # on a full disk the start stops here
        else:
            try:
                snapshot.restore(self, document)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
                self.close()
                raise metadata.damaged(data_dir, f"unexpected content: {error!r}") from None
            self.space.keep_room_for_metadata((data_dir / metadata.FILE_NAME).stat().st_size)
        self.saved = SavedMetadata(self)

    # ------------------------------------------------------------------ persistence
    def save(self) -> None:
        """Write the metadata after a change. When the disk refuses, the change is undone in
        memory too and the client gets CannotWriteToFile (10006)."""
        try:
            self._write_metadata()
        except OSError as error:
            for topic, partition in self.saved.restore(self):
                partition.close()
                self.remove_path(self.partition_path(topic.stream_id, topic.id, partition.id))
            raise self.refusals.refuse(Code.CANNOT_WRITE_TO_FILE, "a metadata change",
                                       error) from None
        self.saved = SavedMetadata(self)
        self.refusals.accepted()

    def _write_metadata(self) -> None:
        if self.data_dir is not None:
            self.space.keep_room_for_metadata(metadata.save(self.data_dir,
                                                            snapshot.capture(self)))

    def stream_path(self, stream_id: int) -> Path | None:
        return self.data_dir / "streams" / str(stream_id) if self.data_dir else None

    def topic_path(self, stream_id: int, topic_id: int) -> Path | None:
        base = self.stream_path(stream_id)
        return base / str(topic_id) if base else None

    def partition_path(self, stream_id: int, topic_id: int, partition_id: int) -> Path | None:
        base = self.topic_path(stream_id, topic_id)
        return base / str(partition_id) if base else None

    def close(self) -> None:
        for _, partition in all_partitions(self):
            partition.close()

    # ------------------------------------------------------------------ sessions
    def open_session(self, address: str, transport: int) -> Session:
        session = Session(next(self._client_ids), address, transport)
        self.sessions[session.client_id] = session
        return session

    def close_session(self, session: Session) -> None:
        self.drop_session_from_groups(session)
        self.sessions.pop(session.client_id, None)

    def get_clients(self, user: User) -> list[Session]:
        """Connected clients: every binary-protocol connection, logged in or not (HTTP
        callers are not connections, so not clients, as on Iggy)."""
        perm.read_servers(user)
        return sorted(self.sessions.values(), key=lambda s: s.client_id)

    def get_client(self, user: User, client_id: int) -> Session | None:
        perm.read_servers(user)
        return self.sessions.get(client_id)

    def cluster_node(self) -> dict:
        """The one node of this single-node "cluster": the sandbox itself, leader, healthy."""
        host, _, tcp_port = self.tcp_address.rpartition(":")
        return {"cluster": "single-node", "name": "iggy-node",
                "ip": host or "127.0.0.1", "tcp": int(tcp_port or 0), "quic": 0,
                "http": int(self.http_address.rpartition(":")[2] or 0), "websocket": 0}

    def caller(self, session: Session) -> User:
        """The logged-in user of a session. As on Iggy, a user's status is checked at login
        only: a session (or an HTTP token) opened before the user was deactivated keeps
        working, while a deleted user's may no longer do anything (Unauthorized)."""
        if session.user_id is None:
            raise IggyError(Code.UNAUTHENTICATED)
        user = self.users.get(session.user_id)
        if user is None:
            raise IggyError(Code.UNAUTHORIZED)
        return user

    # ------------------------------------------------------------------ retention
    def clean(self) -> int:
        """Run the cleaner once: segments DeleteSegments asked for that the barrier now lets
        go, then every partition with a retention policy; returns how many segments it
        deleted. Passes repeat while a partition's budget of segments per pass left
        removable ones, so one run removes all that may go, as Iggy's does."""
        deleted = 0
        now = now_micros()
        for stream in self.streams.values():
            for topic in stream.topics.values():
                for partition in topic.partitions.values():
                    deleted += retention.enforce_delete_watermark(partition)
                max_bytes = retention.partition_budget(topic, self.max_message_size)
                if not topic.message_expiry and max_bytes is None:
                    continue
                self._disclose_floor(topic, max_bytes)
                for partition in topic.partitions.values():
                    removal = retention.Removal(more=True)
                    while removal.more:
                        removal = retention.clean_partition(partition, now,
                                                            topic.message_expiry, max_bytes)
                        deleted += removal.segments
        if deleted:
            log.info("cleaner deleted %d sealed segment(s)", deleted)
        return deleted

    def disclose_unenforceable_cap(self, topic: Topic) -> None:
        """Say so when a topic's cap is set below what retention can enforce, as Iggy does
        when the cap is set (a topic created or updated, partitions added)."""
        max_bytes = retention.partition_budget(topic, self.max_message_size)
        if self._cap_is_floored(topic, max_bytes):
            self._warn_floored_cap(topic, max_bytes)

    def _disclose_floor(self, topic: Topic, max_bytes: int | None) -> None:
        """Say it again once per topic when the cleaner first enforces the floor."""
        key = (topic.stream_id, topic.id, topic.created_at)
        if key not in self._reported_floors and self._cap_is_floored(topic, max_bytes):
            self._reported_floors.add(key)
            self._warn_floored_cap(topic, max_bytes)

    @staticmethod
    def _cap_is_floored(topic: Topic, max_bytes: int | None) -> bool:
        return (max_bytes is not None and bool(topic.partitions)
                and max_bytes > topic.max_topic_size // len(topic.partitions))

    @staticmethod
    def _warn_floored_cap(topic: Topic, max_bytes: int) -> None:
        log.warning("topic %d of stream %d: max_topic_size %d over %d partition(s) is "
                    "below what retention can enforce; each partition keeps up to %d "
                    "bytes of sealed segments (segment size + max message size)",
                    topic.id, topic.stream_id, topic.max_topic_size,
                    len(topic.partitions), max_bytes)

    # ------------------------------------------------------------------ stats
    def counts(self) -> Counts:
        topics = [t for s in self.streams.values() for t in s.topics.values()]
        partitions = [p for t in topics for p in t.partitions.values()]
        return Counts(
            streams=len(self.streams), topics=len(topics), partitions=len(partitions),
            segments=sum(p.log.segments_count for p in partitions),
            messages=sum(p.log.messages_count for p in partitions),
            messages_size_bytes=sum(p.log.size_bytes for p in partitions),
            consumer_groups=sum(len(t.groups) for t in topics),
            clients=len(self.sessions), users=len(self.users))

    def stats(self) -> dict:
        counts = self.counts()
        return {
            **host.process_stats(),
            "run_time": now_micros() - self.started_at,
            "start_time": self.started_at,
            "read_bytes": self.counters["read_bytes"],
            "written_bytes": self.counters["written_bytes"],
            "messages_size_bytes": counts.messages_size_bytes,
            "streams_count": counts.streams,
            "topics_count": counts.topics,
            "partitions_count": counts.partitions,
            "segments_count": counts.segments,
            "messages_count": counts.messages,
            "clients_count": counts.clients,
            "consumer_groups_count": counts.consumer_groups,
            "iggy_server_version": __version__,
            "iggy_server_semver": 9000,
            "threads_count": threading.active_count(),
            **host.disk_stats(self.data_dir),
        }

