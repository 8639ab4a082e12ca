"""Plain records of what the server holds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sandbox.storage.offsets import OffsetFiles
from sandbox.storage.segments import PartitionLog

U64_MAX = 2**64 - 1
DEFAULT_SEGMENT_SIZE = 1_073_741_824
COMPRESSION_NONE, COMPRESSION_GZIP = 1, 2


def now_micros() -> int:
    return time.time_ns() // 1000


@dataclass
class GlobalPermissions:
    manage_servers: bool = False
    read_servers: bool = False
    manage_users: bool = False
    read_users: bool = False
    manage_streams: bool = False
    read_streams: bool = False
    manage_topics: bool = False
    read_topics: bool = False
    poll_messages: bool = False
    send_messages: bool = False


@dataclass
class TopicPermissions:
    manage_topic: bool = False
    read_topic: bool = False
    poll_messages: bool = False
    send_messages: bool = False


@dataclass
class StreamPermissions:
    manage_stream: bool = False
    read_stream: bool = False
    manage_topics: bool = False
    read_topics: bool = False
    poll_messages: bool = False
    send_messages: bool = False
    topics: dict[int, TopicPermissions] | None = None


@dataclass
class Permissions:
    global_: GlobalPermissions = field(default_factory=GlobalPermissions)
    streams: dict[int, StreamPermissions] | None = None

    @classmethod
    def root(cls) -> Permissions:
        return cls(GlobalPermissions(*([True] * 10)))


@dataclass
class User:
    id: int
    username: str
    password_hash: str
    created_at: int
    active: bool = True
    permissions: Permissions | None = None


@dataclass
class PersonalAccessToken:
    user_id: int
    name: str
    token_hash: str
    expiry_at: int | None  # µs since epoch; None = never


@dataclass
class Member:
    """One client session in a consumer group."""

    id: int
    client_id: int
    partitions: list[int] = field(default_factory=list)
    # partition -> (target member id, since µs): moves once this member has committed
    # what it polled, or after the rebalancing timeout
    pending: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass
class ConsumerGroup:
    id: int
    name: str
    generation: int = 0
    members: dict[int, Member] = field(default_factory=dict)


@dataclass
class Partition:
    id: int
    created_at: int
    log: PartitionLog
    offset_files: OffsetFiles
    # (consumer kind, numeric key) -> stored offset
    offsets: dict[tuple[int, int], int] = field(default_factory=dict)
    # group id -> highest offset a member has polled (for cooperative rebalancing)
    polled: dict[int, int] = field(default_factory=dict)
    # DeleteSegments asked for the segments ending at or before this offset (exclusive) to
    # go; retention's rules may hold some back until a consumer moves on
    delete_watermark: int = 0

    def close(self) -> None:
        """Let go of its open files: the log's segments and the offset files."""
        self.log.close()
        self.offset_files.close()


@dataclass
class Topic:
    id: int
    stream_id: int
    name: str
    created_at: int
    partitions: dict[int, Partition]
    message_expiry: int = 0  # µs; 0 = never
    compression: int = COMPRESSION_NONE
    max_topic_size: int = U64_MAX  # bytes; U64_MAX = unlimited
    segment_size: int = DEFAULT_SEGMENT_SIZE
    options: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    groups: dict[int, ConsumerGroup] = field(default_factory=dict)
    next_group_id: int = 0
    balanced_counter: int = 0

    @property
    def size_bytes(self) -> int:
        return sum(p.log.size_bytes for p in self.partitions.values())

    @property
    def messages_count(self) -> int:
        return sum(p.log.messages_count for p in self.partitions.values())


@dataclass
class Stream:
    id: int
    name: str
    created_at: int
    topics: dict[int, Topic] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(t.size_bytes for t in self.topics.values())

    @property
    def messages_count(self) -> int:
        return sum(t.messages_count for t in self.topics.values())


@dataclass
class Session:
    """One connected client (TCP or HTTP token holder)."""

    client_id: int
    address: str
    transport: int  # 1 = TCP, 3 = HTTP
    user_id: int | None = None
    number: int = 0  # the VSR session number handed out at login
    # (stream id, topic id, group id) memberships, for GetMe/GetClients and clean-up
    groups: set[tuple[int, int, int]] = field(default_factory=set)
    last_seen: float = field(default_factory=time.monotonic)
