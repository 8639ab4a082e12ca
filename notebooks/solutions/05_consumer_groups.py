# One answer to the exercise of 05_consumer_groups.ipynb: paste it into the exercise cell.
def idle_members(partitions: int, members: int) -> int:
    """How many members of the group get no partition."""
    return max(0, members - partitions)
