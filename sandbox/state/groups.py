"""Consumer groups: membership per client session and Iggy's partition assignment.

Joining rebalances cooperatively (idle members first get unowned partitions, then each
over-full member gives up its excess from the end of its list). A partition that its old
owner polled but has not committed yet is only marked pending: it moves when the owner
commits past what it polled, or after the rebalancing timeout, so no in-flight batch is
read twice. Leaving, disconnecting and changing the partition count rebalance eagerly:
partition i goes to member i mod M.
"""

from __future__ import annotations

from sandbox.errors import Code, IggyError
from sandbox.state import permissions as perm
from sandbox.state.model import ConsumerGroup, Member, Session, Topic, User, now_micros
from sandbox.state.streams import MAX_NAME_BYTES, lowest_free_id
from sandbox.wire.codec import CONSUMER_GROUP, Identifier

REBALANCING_TIMEOUT_US = 30_000_000


def find_group(topic: Topic, ident: Identifier) -> ConsumerGroup | None:
    if isinstance(ident, int):
        return topic.groups.get(ident)
    return next((g for g in topic.groups.values() if g.name == ident), None)


def member_of(group: ConsumerGroup, client_id: int) -> Member | None:
    return next((m for m in group.members.values() if m.client_id == client_id), None)


def rebalance_eager(group: ConsumerGroup, partition_ids: list[int]) -> None:
    group.generation += 1
    members = [group.members[k] for k in sorted(group.members)]
    for member in members:
        member.partitions.clear()
        member.pending.clear()
    for i, partition_id in enumerate(partition_ids):
        if members:
            members[i % len(members)].partitions.append(partition_id)


def rebalance_cooperative(group: ConsumerGroup, partition_ids: list[int],
                          in_flight: set[int]) -> None:
    group.generation += 1
    members = [group.members[k] for k in sorted(group.members)]
    if not members or not partition_ids:
        return
    assigned = {p for m in members for p in m.partitions}
    unassigned = [p for p in partition_ids if p not in assigned]
    idle = [m for m in members if not m.partitions]
    for i, partition_id in enumerate(unassigned):
        if idle:
            idle[i % len(idle)].partitions.append(partition_id)

    fair, remainder = divmod(len(partition_ids), len(members))
    targets = {target for m in members for target, _ in m.pending.values()}
    idle = [m for m in members if not m.partitions and m.id not in targets]
    if not idle:
        return
    excess: list[tuple[int, Member]] = []
    for member in members:
        effective = [p for p in member.partitions if p not in member.pending]
        allowed = fair + 1 if remainder > 0 else fair
        if len(effective) > fair and remainder > 0:
            remainder -= 1
        if len(effective) > allowed:
            excess += [(p, member) for p in reversed(effective[allowed:])]
    now = now_micros()
    for i, (partition_id, source) in enumerate(excess):
        target = idle[i % len(idle)]
        if partition_id in in_flight:
            source.pending[partition_id] = (target.id, now)
        else:
            source.partitions.remove(partition_id)
            target.partitions.append(partition_id)


class GroupsMixin:
    """Mixed into ``System``."""

    def group(self, topic: Topic, ident: Identifier) -> ConsumerGroup:
        found = find_group(topic, ident)
        if found is None:
            raise IggyError(Code.CONSUMER_GROUP_ID_NOT_FOUND, ident, topic.id, field="group_id")
        return found

    def get_consumer_group(self, user: User, stream_ident: Identifier, topic_ident: Identifier,
                           group_ident: Identifier) -> tuple[Topic, ConsumerGroup | None]:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        group = find_group(topic, group_ident)
        if group is not None:
            self._expire_pending(topic, group)
        return topic, group

    def get_consumer_groups(self, user: User, stream_ident: Identifier,
                            topic_ident: Identifier) -> tuple[Topic, list[ConsumerGroup]]:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        return topic, sorted(topic.groups.values(), key=lambda g: g.id)

    def create_consumer_group(self, user: User, stream_ident: Identifier,
                              topic_ident: Identifier, name: str) -> tuple[Topic, ConsumerGroup]:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        if not 1 <= len(name.encode()) <= MAX_NAME_BYTES:
            raise IggyError(Code.INVALID_CONSUMER_GROUP_NAME)
        if find_group(topic, name) is not None:
            raise IggyError(Code.CONSUMER_GROUP_NAME_ALREADY_EXISTS, name, topic.id,
                            field="name")
        group = ConsumerGroup(topic.next_group_id, name)
        topic.next_group_id += 1
        topic.groups[group.id] = group
        self.save()
        return topic, group

    def delete_consumer_group(self, user: User, stream_ident: Identifier,
                              topic_ident: Identifier, group_ident: Identifier) -> None:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        group = self.group(topic, group_ident)
        del topic.groups[group.id]
        self.save()
        for member in group.members.values():
            session = self.sessions.get(member.client_id)
            if session:
                session.groups.discard((stream.id, topic.id, group.id))
        for partition in topic.partitions.values():
            partition.offsets.pop((CONSUMER_GROUP, group.id), None)
            partition.offset_files.delete(CONSUMER_GROUP, group.id)
            partition.polled.pop(group.id, None)

    def join_consumer_group(self, session: Session, user: User, stream_ident: Identifier,
                            topic_ident: Identifier, group_ident: Identifier) -> None:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        group = self.group(topic, group_ident)
        if member_of(group, session.client_id) is not None:
            return
        member = Member(lowest_free_id(group.members), session.client_id)
        group.members[member.id] = member
        session.groups.add((stream.id, topic.id, group.id))
        rebalance_cooperative(group, sorted(topic.partitions), self._in_flight(topic, group))

    def leave_consumer_group(self, session: Session, user: User, stream_ident: Identifier,
                             topic_ident: Identifier, group_ident: Identifier) -> None:
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        group = self.group(topic, group_ident)
        member = member_of(group, session.client_id)
        if member is None:
            raise IggyError(Code.CONSUMER_GROUP_MEMBER_NOT_FOUND, session.client_id, group.id)
        self._remove_member(topic, group, member)
        session.groups.discard((stream.id, topic.id, group.id))

    def sync_consumer_group(self, session: Session, user: User, stream_ident: Identifier,
                            topic_ident: Identifier,
                            group_ident: Identifier) -> tuple[int, list[int]] | None:
        """The caller's generation and pollable partitions; None when it is not a member."""
        stream, topic = self.resolve(stream_ident, topic_ident)
        perm.read_topic(user, stream.id, topic.id)
        group = find_group(topic, group_ident)
        member = member_of(group, session.client_id) if group else None
        if member is None:
            return None
        self._expire_pending(topic, group)
        return group.generation, [p for p in member.partitions if p not in member.pending]

    def owned_partition(self, session: Session, topic: Topic, group: ConsumerGroup,
                        partition_id: int | None) -> int:
        """The partition a group poll may read, or 5009 so the SDK re-syncs."""
        self._expire_pending(topic, group)
        member = member_of(group, session.client_id)
        if (member is None or partition_id is None or partition_id not in member.partitions
                or partition_id in member.pending):
            raise IggyError(Code.CONSUMER_GROUP_PARTITION_NOT_OWNED, partition_id or 0)
        return partition_id

    def group_committed(self, topic: Topic, group: ConsumerGroup, partition_id: int) -> None:
        """A commit may complete a pending move of that partition."""
        partition = topic.partitions.get(partition_id)
        if partition is None or partition_id in self._in_flight(topic, group):
            return
        for member in group.members.values():
            if partition_id in member.pending:
                self._complete_move(group, member, partition_id)

    def drop_session_from_groups(self, session: Session) -> None:
        for stream_id, topic_id, group_id in list(session.groups):
            stream = self.streams.get(stream_id)
            topic = stream.topics.get(topic_id) if stream else None
            group = topic.groups.get(group_id) if topic else None
            member = member_of(group, session.client_id) if group else None
            if member is not None:
                self._remove_member(topic, group, member)
        session.groups.clear()

    def rebalance_all(self, topic: Topic) -> None:
        for group in topic.groups.values():
            rebalance_eager(group, sorted(topic.partitions))

    # ------------------------------------------------------------------ internals
    def _remove_member(self, topic: Topic, group: ConsumerGroup, member: Member) -> None:
        del group.members[member.id]
        rebalance_eager(group, sorted(topic.partitions))

    @staticmethod
    def _in_flight(topic: Topic, group: ConsumerGroup) -> set[int]:
        key = (CONSUMER_GROUP, group.id)
        return {pid for pid, p in topic.partitions.items()
                if group.id in p.polled and p.polled[group.id] > p.offsets.get(key, -1)}

    def _expire_pending(self, topic: Topic, group: ConsumerGroup) -> None:
        now = now_micros()
        in_flight = self._in_flight(topic, group)
        for member in list(group.members.values()):
            for partition_id, (_, since) in list(member.pending.items()):
                if partition_id not in in_flight or now - since >= REBALANCING_TIMEOUT_US:
                    self._complete_move(group, member, partition_id)

    @staticmethod
    def _complete_move(group: ConsumerGroup, source: Member, partition_id: int) -> None:
        target_id, _ = source.pending.pop(partition_id)
        source.partitions.remove(partition_id)
        target = group.members.get(target_id)
        if target is not None:
            target.partitions.append(partition_id)
        group.generation += 1
