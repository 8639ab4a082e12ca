# One answer to the exercise of 07_durability_and_retention.ipynb: paste it into the exercise cell.
async def create_short_lived_topic() -> None:
    """Create "short-lived": 1 partition, SEGMENT-byte segments, a 10-second expiry."""
    await helpers.ensure_topic(
        client, STREAM, "short-lived", partitions=1, segment_size=SEGMENT,
        message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=10)),
    )


await create_short_lived_topic()
