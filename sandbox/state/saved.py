"""The metadata as last written to disk, kept so that a change the disk refused can be undone.

Every metadata change edits the state in memory, then writes the whole metadata file. When
that write fails (a full disk), the change must not stay in memory either: the client was
told it failed, and a restart would forget it. After each successful write this records
which users, tokens, streams, topics, partitions and groups exist and the fields of each;
``restore`` puts them back in place (the same objects, so nothing holding one goes stale).
The steps of a change that cannot be undone (closing a log, deleting files, telling group
members) run only once the write succeeded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sandbox.state.model import Partition, Stream, Topic, User

if TYPE_CHECKING:
    from sandbox.state.system import System

_CONTAINERS = frozenset({"topics", "partitions", "groups", "options"})


def _copied(fields: dict) -> dict:
    """A record's fields with its containers copied: the record's own dicts change in place."""
    return {name: dict(value) if name in _CONTAINERS else value
            for name, value in fields.items()}


def _records(system: System) -> Iterator[User | Stream | Topic]:
    yield from system.users.values()
    for stream in system.streams.values():
        yield stream
        yield from stream.topics.values()


def partitions(system: System) -> Iterator[tuple[Topic, Partition]]:
    for stream in system.streams.values():
        for topic in stream.topics.values():
            for partition in topic.partitions.values():
                yield topic, partition


class SavedMetadata:
    """A shallow record of the metadata at the last successful write."""

    def __init__(self, system: System):
        self.users = dict(system.users)
        self.tokens = dict(system.tokens)
        self.streams = dict(system.streams)
        self.records = [(record, _copied(vars(record))) for record in _records(system)]

    def restore(self, system: System) -> list[tuple[Topic, Partition]]:
        """Put the recorded metadata back; returns the partitions made since, now orphaned
        (their logs are still open and their folders exist: the caller removes them)."""
        before = list(partitions(system))
        system.users = dict(self.users)
        system.tokens = dict(self.tokens)
        system.streams = dict(self.streams)
        for record, fields in self.records:
            record.__dict__.update(_copied(fields))
        kept = {id(partition) for _, partition in partitions(system)}
        return [(topic, partition) for topic, partition in before if id(partition) not in kept]
