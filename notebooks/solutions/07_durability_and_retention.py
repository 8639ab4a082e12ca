# One answer to the exercise of 07_durability_and_retention.ipynb: paste it into the exercise cell.
async def create_bounded_topic() -> None:
    """Create "bounded": 2 partitions, SEGMENT-byte segments, the smallest cap enforced
    as written."""
    await helpers.ensure_topic(
        client, STREAM, "bounded", partitions=2, segment_size=SEGMENT,
        max_topic_size=MaxTopicSize.Custom(2 * FLOOR),  # each partition's share: the floor
    )


await create_bounded_topic()
