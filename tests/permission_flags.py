"""The permission flags of Iggy's HTTP JSON, by level, as the tests that grant them spell them."""

GLOBAL_FLAGS = ("manage_servers", "read_servers", "manage_users", "read_users",
                "manage_streams", "read_streams", "manage_topics", "read_topics",
                "poll_messages", "send_messages")
STREAM_FLAGS = ("manage_stream", "read_stream", "manage_topics", "read_topics",
                "poll_messages", "send_messages")
TOPIC_FLAGS = ("manage_topic", "read_topic", "poll_messages", "send_messages")
