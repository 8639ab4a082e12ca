# One answer to the exercise of 01_first_messages.ipynb: paste it into the exercise cell.
def predict_next_offset(topic) -> int:
    """The offset the server will give the next message sent to partition 0."""
    partition = topic.partitions[0]
    return partition.current_offset + 1 if partition.messages_count else 0
