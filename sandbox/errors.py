"""Iggy's error codes as data.

Handlers raise ``IggyError(Code.X, ...)``; the TCP front writes the number where the 0.9
protocol puts it (header status or result section) and the HTTP front turns it into Iggy's
JSON error body. The SDK maps the number to the exception a real server would produce.
"""

from __future__ import annotations

import re
from enum import IntEnum


class Code(IntEnum):
    """The subset of Iggy 0.9.0 error codes the sandbox can return."""

    ERROR = 1
    INVALID_COMMAND = 3
    INVALID_FORMAT = 4
    FEATURE_UNAVAILABLE = 5
    INVALID_IDENTIFIER = 6
    CANNOT_ESTABLISH_CONNECTION = 9
    RESOURCE_NOT_FOUND = 20
    STALE_CLIENT = 30
    UNAUTHENTICATED = 40
    UNAUTHORIZED = 41
    INVALID_CREDENTIALS = 42
    INVALID_USERNAME = 43
    INVALID_PASSWORD = 44
    INVALID_USER_STATUS = 45
    USER_ALREADY_EXISTS = 46
    USER_INACTIVE = 47
    CANNOT_DELETE_USER = 48
    CANNOT_CHANGE_PERMISSIONS = 49
    INVALID_PERSONAL_ACCESS_TOKEN_NAME = 50
    PERSONAL_ACCESS_TOKEN_ALREADY_EXISTS = 51
    PERSONAL_ACCESS_TOKENS_LIMIT_REACHED = 52
    INVALID_PERSONAL_ACCESS_TOKEN = 53
    PERSONAL_ACCESS_TOKEN_EXPIRED = 54
    USERS_LIMIT_REACHED = 55
    ACCESS_TOKEN_MISSING = 77
    INVALID_ACCESS_TOKEN = 78
    STREAM_ID_NOT_FOUND = 1009
    STREAM_NAME_ALREADY_EXISTS = 1012
    INVALID_STREAM_NAME = 1013
    INVALID_TOPIC_SIZE = 1019
    TOO_MANY_STREAMS = 1020
    TOPIC_ID_NOT_FOUND = 2010
    TOPIC_NAME_ALREADY_EXISTS = 2013
    INVALID_TOPIC_NAME = 2014
    TOO_MANY_PARTITIONS = 2015
    INVALID_PARTITIONS_COUNT = 2019
    TOO_MANY_TOPICS = 2021
    PARTITION_NOT_FOUND = 3007
    NO_PARTITIONS = 3008
    PARTITION_ID_SPACE_EXHAUSTED = 3013
    CONSUMER_OFFSET_NOT_FOUND = 3021
    INVALID_SEGMENT_SIZE = 4002
    CANNOT_SAVE_MESSAGES_TO_SEGMENT = 4006
    INVALID_MESSAGES_COUNT = 4009
    TOO_BIG_USER_HEADERS = 4017
    TOO_BIG_MESSAGE_PAYLOAD = 4022
    EMPTY_MESSAGE_PAYLOAD = 4024
    INVALID_MESSAGE_PAYLOAD_LENGTH = 4025
    INVALID_KEY_VALUE_LENGTH = 4028
    COMMAND_LENGTH_ERROR = 4029
    INVALID_MESSAGE_CHECKSUM = 4027
    INVALID_MESSAGES_SIZE = 4036
    INVALID_BATCH_CHECKSUM = 4039
    INVALID_HEADER_KIND = 4040
    UNSUPPORTED_OPTION_KEY = 4041
    INVALID_OPTION_VALUE = 4042
    INVALID_OFFSET = 4100
    INVALID_RESERVED_FIELD = 4101
    CONSUMER_GROUP_ID_NOT_FOUND = 5000
    CONSUMER_GROUP_NAME_ALREADY_EXISTS = 5004
    INVALID_CONSUMER_GROUP_NAME = 5005
    CONSUMER_GROUP_MEMBER_NOT_FOUND = 5006
    CONSUMER_GROUP_PARTITION_NOT_OWNED = 5009
    CANNOT_WRITE_TO_FILE = 10006


_MESSAGES: dict[Code, str] = {
    Code.ERROR: "Error",
    Code.INVALID_COMMAND: "Invalid command",
    Code.INVALID_FORMAT: "Invalid format",
    Code.FEATURE_UNAVAILABLE: "Feature is unavailable",
    Code.INVALID_IDENTIFIER: "Invalid identifier",
    Code.CANNOT_ESTABLISH_CONNECTION: "Cannot establish connection",
    Code.RESOURCE_NOT_FOUND: "Resource with key: {0} was not found.",
    Code.STALE_CLIENT: "Stale client",
    Code.UNAUTHENTICATED: "Unauthenticated",
    Code.UNAUTHORIZED: "Unauthorized",
    Code.INVALID_CREDENTIALS: "Invalid credentials",
    Code.INVALID_USERNAME: "Invalid username",
    Code.INVALID_PASSWORD: "Invalid password",
    Code.INVALID_USER_STATUS: "Invalid user status",
    Code.USER_ALREADY_EXISTS: "User already exists",
    Code.USER_INACTIVE: "User inactive",
    Code.CANNOT_DELETE_USER: "Cannot delete user with ID: {0}",
    Code.CANNOT_CHANGE_PERMISSIONS: "Cannot change permissions for user with ID: {0}",
    Code.INVALID_PERSONAL_ACCESS_TOKEN_NAME: "Invalid personal access token name",
    Code.PERSONAL_ACCESS_TOKEN_ALREADY_EXISTS:
        "Personal access token: {0} for user with ID: {1} already exists",
    Code.PERSONAL_ACCESS_TOKENS_LIMIT_REACHED:
        "User with ID: {0} has reached the maximum number of personal access tokens: {1}",
    Code.INVALID_PERSONAL_ACCESS_TOKEN: "Invalid personal access token",
    Code.PERSONAL_ACCESS_TOKEN_EXPIRED:
        "Personal access token: {0} for user with ID: {1} has expired.",
    Code.USERS_LIMIT_REACHED: "Users limit reached.",
    Code.ACCESS_TOKEN_MISSING: "Access token is missing",
    Code.INVALID_ACCESS_TOKEN: "Invalid access token",
    Code.STREAM_ID_NOT_FOUND: "Stream with ID: {0} was not found.",
    Code.STREAM_NAME_ALREADY_EXISTS: "Stream with name: {0} already exists.",
    Code.INVALID_STREAM_NAME: "Invalid stream name",
    Code.INVALID_TOPIC_SIZE: "Max topic size cannot be lower than segment size. "
                             "Max topic size: {0} < segment size: {1}.",
    Code.TOO_MANY_STREAMS: "Too many streams",
    Code.TOPIC_ID_NOT_FOUND: "Topic with ID: {0} for stream with ID: {1} was not found.",
    Code.TOPIC_NAME_ALREADY_EXISTS: "Topic with name: {0} for stream with ID: {1} already exists.",
    Code.INVALID_TOPIC_NAME: "Invalid topic name",
    Code.TOO_MANY_PARTITIONS: "Too many partitions",
    Code.INVALID_PARTITIONS_COUNT: "Invalid partitions count",
    Code.TOO_MANY_TOPICS: "Too many topics",
    Code.PARTITION_NOT_FOUND:
        "Partition with ID: {0} for topic with ID: {1} for stream with ID: {2} was not found.",
    Code.NO_PARTITIONS: "Topic with ID: {0} for stream with ID: {1} has no partitions.",
    Code.PARTITION_ID_SPACE_EXHAUSTED: "Partition id space exhausted for this topic",
    Code.CONSUMER_OFFSET_NOT_FOUND: "Consumer offset for consumer with ID: {0} was not found.",
    Code.INVALID_SEGMENT_SIZE: "Segment size is invalid",
    Code.CANNOT_SAVE_MESSAGES_TO_SEGMENT: "Cannot save messages to segment.",
    Code.INVALID_MESSAGES_COUNT: "Invalid messages count",
    Code.TOO_BIG_USER_HEADERS: "Too big headers payload",
    Code.TOO_BIG_MESSAGE_PAYLOAD: "Too big message payload",
    Code.EMPTY_MESSAGE_PAYLOAD: "Empty message payload",
    Code.INVALID_MESSAGE_PAYLOAD_LENGTH: "Invalid message payload length",
    Code.INVALID_KEY_VALUE_LENGTH: "Invalid key value length",
    Code.COMMAND_LENGTH_ERROR: "Command length error: {0}",
    Code.INVALID_MESSAGE_CHECKSUM:
        "Invalid message checksum: {0}, expected: {1}, for offset: {2}",
    Code.INVALID_MESSAGES_SIZE: "Invalid messages byte size: {0}B, expected: {1}B",
    Code.INVALID_BATCH_CHECKSUM: "Invalid batch checksum: {0}, expected: {1}, for base offset: {2}",
    Code.INVALID_HEADER_KIND: "Invalid header kind code: {0}",
    Code.UNSUPPORTED_OPTION_KEY: "Unsupported option key: {0}",
    Code.INVALID_OPTION_VALUE: "Invalid option value for key: {0}",
    Code.INVALID_OFFSET: "Invalid offset: {0}",
    Code.INVALID_RESERVED_FIELD: "Invalid reserved field value: {0}, expected: 0",
    Code.CONSUMER_GROUP_ID_NOT_FOUND:
        "Consumer group with ID: {0} for topic with ID: {1} was not found.",
    Code.CONSUMER_GROUP_NAME_ALREADY_EXISTS:
        "Consumer group with name: {0} for topic with ID: {1} already exists.",
    Code.INVALID_CONSUMER_GROUP_NAME: "Invalid consumer group name",
    Code.CONSUMER_GROUP_MEMBER_NOT_FOUND:
        "Consumer group member with client ID: {0} for group with ID: {1} was not found.",
    Code.CONSUMER_GROUP_PARTITION_NOT_OWNED:
        "Consumer group member does not own partition: {0} at the current generation "
        "(rebalance in progress).",
    Code.CANNOT_WRITE_TO_FILE: "Cannot write to file",
}

# What a client that knows only the code shows for the values: text values are empty,
# numbers and ids 0, unless listed here (as Iggy's types print their defaults).
_TEXT = ""
_VALUES_FROM_CODE: dict[Code, tuple[str, ...]] = {
    Code.RESOURCE_NOT_FOUND: (_TEXT,),
    Code.PERSONAL_ACCESS_TOKEN_ALREADY_EXISTS: (_TEXT, "0"),
    Code.PERSONAL_ACCESS_TOKEN_EXPIRED: (_TEXT, "0"),
    Code.STREAM_NAME_ALREADY_EXISTS: (_TEXT,),
    Code.INVALID_TOPIC_SIZE: ("server_default", "0 B"),
    Code.TOPIC_NAME_ALREADY_EXISTS: (_TEXT, "0"),
    Code.COMMAND_LENGTH_ERROR: (_TEXT,),
    Code.UNSUPPORTED_OPTION_KEY: (_TEXT,),
    Code.INVALID_OPTION_VALUE: (_TEXT,),
    Code.CONSUMER_GROUP_NAME_ALREADY_EXISTS: (_TEXT, "0"),
}


class IggyError(Exception):
    """An error the way Iggy reports it: a numeric code plus the values for its message."""

    def __init__(self, code: Code, *args: object, field: str | None = None):
        self.code = Code(code)
        self.args_ = args
        self.field = field
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        template = _MESSAGES.get(self.code, self.code.name.replace("_", " ").capitalize())
        try:
            return template.format(*self.args_)
        except IndexError:
            return re.sub(r"\{\d\}", "", template)

    @property
    def code_reason(self) -> str:
        """The text a client shows when only the code travelled (Iggy's writes, TCP)."""
        template = _MESSAGES.get(self.code, self.code.name.replace("_", " ").capitalize())
        count = len(set(re.findall(r"\{(\d)\}", template)))
        return template.format(*_VALUES_FROM_CODE.get(self.code, ("0",) * count))

    @property
    def snake_name(self) -> str:
        return self.code.name.lower()


class AnsweredAsNotFound:
    """A block in which an ``IggyError`` whose code is in ``codes`` becomes ResourceNotFound
    (20) with an empty key, as Iggy's partition plane answers a send or an offset write whose
    target does not resolve, whatever is missing. A class rather than a generator-based
    context manager because it wraps every send."""

    __slots__ = ("codes",)

    def __init__(self, codes: frozenset[int]):
        self.codes = codes

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: object) -> bool:
        if isinstance(error, IggyError) and error.code in self.codes:
            raise IggyError(Code.RESOURCE_NOT_FOUND, "") from None
        return False
