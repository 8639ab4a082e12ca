"""Iggy's HTTP JSON that tests send: the body that creates a topic, and the permission flags
by level, as the tests that grant them spell them."""

GLOBAL_FLAGS = ("manage_servers", "read_servers", "manage_users", "read_users",
                "manage_streams", "read_streams", "manage_topics", "read_topics",
                "poll_messages", "send_messages")
STREAM_FLAGS = ("manage_stream", "read_stream", "manage_topics", "read_topics",
                "poll_messages", "send_messages")
TOPIC_FLAGS = ("manage_topic", "read_topic", "poll_messages", "send_messages")


def topic_body(name: str, partitions: int) -> dict:
    """Every field Iggy requires to create a topic (0 = the server's default)."""
    return {"name": name, "partitions_count": partitions, "compression_algorithm": "none",
            "message_expiry": 0, "max_topic_size": 0}
