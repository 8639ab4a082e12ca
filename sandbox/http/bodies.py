"""The JSON bodies of Iggy 0.9's REST API, as the Rust types its server decodes them into.

Field order, optional fields and each custom type's wording follow Iggy's ``iggy_common``
request structs, so ``jsonbody`` refuses a body exactly where and how Iggy would.
"""

from __future__ import annotations

from typing import Any

from sandbox.http.jsonbody import (
    Boolean,
    Decoder,
    Kind,
    Sequence,
    Struct,
    Text,
    TextMap,
    Unsigned,
    Variant,
    optional,
    required,
)
from sandbox.http.jsonbody import Parsed as _Parsed

U32, U64 = Unsigned(32), Unsigned(64)
# Iggy's expiry and topic size take only a u64 (0 = server default, u64::MAX = never).
EXPIRY = Unsigned(64, "a microsecond expiry as a u64")
TOPIC_SIZE = Unsigned(64, "a u64 bytes representing a MaxTopicSize")
USER_STATUS = Variant("UserStatus", ("active", "inactive"))


def _compression(text: str) -> str:
    if text.lower() not in ("none", "gzip"):
        raise ValueError(f"Unknown compression type: {text}")
    return text.lower()


class _Identifier(Kind):
    """A consumer id: a name or a number."""

    expecting = "a string or number representing an identifier"

    def accept(self, decoder: Decoder, kind: str, value: Any) -> Any:
        if kind == "string" or (kind == "integer" and 0 <= value < 2**32):
            return value
        raise self.refuse(decoder, kind, value)


CONSUMER_ID = _Identifier()
COMPRESSION = _Parsed(_compression, "a valid compression type, check documentation for more "
                                    "information.")

LOGIN_USER = Struct("LoginUser", (required("username", Text()), required("password", Text()),
                                  optional("version", Text()), optional("context", Text())))
REFRESH_TOKEN = Struct("RefreshToken", (required("token", Text()),))
LOGIN_WITH_TOKEN = Struct("LoginWithPersonalAccessToken", (required("token", Text()),))
CREATE_TOKEN = Struct("CreatePersonalAccessToken", (required("name", Text()),
                                                     required("expiry", EXPIRY)))

CREATE_STREAM = Struct("CreateStream", (required("name", Text()),))
UPDATE_STREAM = Struct("UpdateStream", (required("name", Text()),
                                        optional("options", TextMap(), {})))

CREATE_TOPIC = Struct("CreateTopic", (
    required("partitions_count", U32), required("compression_algorithm", COMPRESSION),
    required("message_expiry", EXPIRY), required("max_topic_size", TOPIC_SIZE),
    required("name", Text()), optional("options", TextMap(), {})))
UPDATE_TOPIC = Struct("UpdateTopic", (
    optional("compression_algorithm", COMPRESSION), optional("message_expiry", EXPIRY),
    optional("max_topic_size", TOPIC_SIZE), required("name", Text()),
    optional("options", TextMap(), {})))
CREATE_PARTITIONS = Struct("CreatePartitions", (required("partitions_count", U32),))
CREATE_GROUP = Struct("CreateConsumerGroup", (required("name", Text()),))

_TOPIC_PERMISSIONS = Struct("TopicPermissions", tuple(required(name, Boolean()) for name in (
    "manage_topic", "read_topic", "poll_messages", "send_messages")))


class _IdMap(TextMap):
    """``BTreeMap<usize, T>`` from JSON: keys are decimal strings."""

    def __init__(self, value: Struct):
        self.value = value

    expecting = "a map"

    def read(self, decoder):  # type: ignore[override]
        if decoder.peek() != ord("{"):
            kind, found = self.scalar(decoder)
            raise self.refuse(decoder, kind, found)

        def check_key(key: str) -> None:
            if not (key.isascii() and key.isdigit()):
                raise decoder.numeric_key_error(key)

        return {int(key): value for key, value in decoder.entries(
            lambda key: self.value.read(decoder), check_key)}


_STREAM_PERMISSIONS = Struct("StreamPermissions", (
    *(required(name, Boolean()) for name in ("manage_stream", "read_stream", "manage_topics",
                                              "read_topics", "poll_messages", "send_messages")),
    optional("topics", _IdMap(_TOPIC_PERMISSIONS))))
_GLOBAL_PERMISSIONS = Struct("GlobalPermissions", tuple(required(name, Boolean()) for name in (
    "manage_servers", "read_servers", "manage_users", "read_users", "manage_streams",
    "read_streams", "manage_topics", "read_topics", "poll_messages", "send_messages")))
PERMISSIONS = Struct("Permissions", (required("global", _GLOBAL_PERMISSIONS),
                                     optional("streams", _IdMap(_STREAM_PERMISSIONS))))

CREATE_USER = Struct("CreateUser", (required("username", Text()), required("password", Text()),
                                    required("status", USER_STATUS),
                                    optional("permissions", PERMISSIONS)))
UPDATE_USER = Struct("UpdateUser", (optional("username", Text()),
                                    optional("status", USER_STATUS),
                                    optional("options", TextMap(), {})))
CHANGE_PASSWORD = Struct("ChangePassword", (required("current_password", Text()),
                                            required("new_password", Text())))
UPDATE_PERMISSIONS = Struct("UpdatePermissions", (optional("permissions", PERMISSIONS),))

# The consumer is flattened into the body; without ``consumer_id`` it is consumer 1.
STORE_OFFSET = Struct("StoreConsumerOffset", (
    optional("consumer_id", CONSUMER_ID, 1), optional("partition_id", U32),
    required("offset", U64)))

GET_SNAPSHOT = Struct("GetSnapshot", (
    required("compression", Variant("SnapshotCompression", (
        "Stored", "Deflated", "Bzip2", "Zstd", "Lzma", "Xz"))),
    required("snapshot_types", Sequence(Variant("SystemSnapshotType", (
        "FilesystemOverview", "ProcessList", "ResourceUsage", "Test", "ServerLogs",
        "ServerConfig", "All"))))))
