"""Retention (notebook 07): expired segments go, the size cap and its floor, and a stored
consumer offset that holds data back until it moves.

These scenarios wait for the server's cleaner, so both servers run it often (the recorder
is told the real server's interval; the replay starts the sandbox with a short one) and the
waits scale with it. Segments are the smallest the server allows (1 MiB) and a batch of
600 messages of 1000 bytes is about 630 KB: the real server seals a segment after the append
that takes it past its size, so every second batch seals one (offsets 0-1199, 1200-2399...).
"""

from __future__ import annotations

from apache_iggy import Consumer, IggyClient, PollingStrategy, SendMessage

from tests.parity.exchange import Session
from tests.parity.scenarios import commands, scenario

MIB = 1024 * 1024
EXPIRY_SECONDS = 2
BATCH, PAYLOAD = 600, b"r" * 1000


async def _topic(s: Session, client: IggyClient, stream: str, partitions: int = 1,
                 **options: int) -> None:
    await s.sdk("create a stream", client.create_stream, stream)
    await s.sdk_raw("create a topic with 1 MiB segments", client, commands.CREATE_TOPIC,
                    commands.create_topic(stream, "log", partitions, segment_size=MIB,
                                          **options), commands.created)


async def _fill(s: Session, client: IggyClient, stream: str, batches: int, label: str) -> None:
    """Send ``batches`` batches to partition 0; one exchange per batch."""
    for batch in range(batches):
        first = batch * BATCH
        await s.sdk(f"{label}: batch {batch + 1} of {batches}", client.send_messages, stream,
                    "log", 0, [SendMessage(PAYLOAD, id=first + n + 1) for n in range(BATCH)])


async def _partition(s: Session, step: str, client: IggyClient, stream: str) -> None:
    await s.sdk(step, client.get_topic, stream, "log")


@scenario
async def retention_message_expiry(s: Session) -> None:
    client = await s.connect()
    stream = "parity-expiry"
    await _topic(s, client, stream, message_expiry=EXPIRY_SECONDS * 1_000_000)
    await _fill(s, client, stream, 3, "fill a segment and a half")
    await _partition(s, "a sealed segment and an active one before expiry", client, stream)
    await s.wait_for_cleaner(EXPIRY_SECONDS)
    await _partition(s, "the sealed segment expired, the active one stays", client, stream)
    await s.sdk("the first message left is the active segment's first", client.poll_messages,
                stream, "log", consumer=Consumer.Single("parity-reader"),
                polling_strategy=PollingStrategy.First(), count=1, auto_commit=False,
                partition_id=0)
    await s.sdk("delete the stream", client.delete_stream, stream)


@scenario
async def retention_offset_barrier(s: Session) -> None:
    client = await s.connect()
    stream = "parity-barrier"
    await _topic(s, client, stream, message_expiry=EXPIRY_SECONDS * 1_000_000)
    await _fill(s, client, stream, 3, "fill a segment and a half")
    target = commands.offset_target(commands.SINGLE, "parity-reader", stream, "log", 0)
    await s.sdk_raw("store an offset inside the first segment", client,
                    commands.STORE_CONSUMER_OFFSET, target + commands.store_offset(5))
    await s.wait_for_cleaner(EXPIRY_SECONDS)
    await _partition(s, "the stored offset keeps the expired segment", client, stream)
    await s.sdk_raw("move the offset past the first segment", client,
                    commands.STORE_CONSUMER_OFFSET, target + commands.store_offset(1300))
    await s.wait_for_cleaner()
    await _partition(s, "now the expired segment goes", client, stream)
    await s.sdk_raw("the stored offset is unchanged", client, commands.GET_CONSUMER_OFFSET,
                    target, commands.offset_reply)
    await s.sdk("delete the stream", client.delete_stream, stream)


@scenario
async def retention_size_cap_floor(s: Session) -> None:
    """A 2 MiB cap on 1 MiB segments: below the per-partition floor (one segment plus the
    largest message the server accepts, 64 MiB), so the cap is stored but nothing goes."""
    client = await s.connect()
    stream = "parity-size-floor"
    await _topic(s, client, stream, max_topic_size=2 * MIB)
    await _fill(s, client, stream, 7, "fill three and a half segments")
    await s.wait_for_cleaner()
    await _partition(s, "nothing was deleted: the cap is under the floor", client, stream)
    await s.sdk("delete the stream", client.delete_stream, stream)

