# One answer to the exercise of 02_streams_and_topics.ipynb: paste it into the exercise cell.
async def create_if_missing(stream: str, topic: str, partitions: int) -> None:
    """Create ``stream`` and its ``topic`` unless they exist; safe to call twice."""
    if await client.get_stream(stream) is None:
        await client.create_stream(name=stream)
    if await client.get_topic(stream, topic) is None:
        await client.create_topic(stream=stream, name=topic, partitions_count=partitions)
