# One answer to the exercise of 08_http_api.ipynb: paste it into the exercise cell.
def partition_offsets(topic_json: dict) -> dict[int, int]:
    """Partition id -> current offset, from a topic's REST details."""
    return {p["id"]: p["current_offset"] for p in topic_json["partitions"]}
