"""Bad frames and many clients: one broken connection never disturbs the server or the
other clients."""

from __future__ import annotations

import asyncio

import pytest
from apache_iggy import Consumer, PollingStrategy, SendMessage

from helpers.connection import connect
from tests import wire_client as wire

MALFORMED = {
    "garbage bytes": bytes([0xAB]) * 300,
    "a header claiming 4 GB": wire.request_frame(size=0xFFFF_FFFF),
    "a size smaller than the header": wire.request_frame(size=100),
    "an unknown command byte": wire.request_frame(command=99),
}


async def assert_server_still_serves(address: str, old_client) -> None:
    """A fresh SDK client logs in and pings, and a client connected before still works."""
    fresh = await connect(address, announce=False)
    await fresh.ping()
    assert isinstance(await fresh.get_streams(), list)
    await old_client.ping()
    assert isinstance(await old_client.get_streams(), list)


@pytest.mark.parametrize("frame", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_frame_closes_only_that_connection(iggy_server, client, frame):
    with wire.open_connection(iggy_server.tcp_address) as sock:
        sock.sendall(frame)
        assert wire.closed_by_server(sock)
    await assert_server_still_serves(iggy_server.tcp_address, client)


async def test_a_reply_frame_sent_to_the_server_is_dropped_and_the_connection_stays(
    iggy_server,
):
    with wire.open_connection(iggy_server.tcp_address) as sock:
        sock.sendall(wire.request_frame(command=wire.COMMAND_REPLY))
        sock.sendall(wire.request_frame(wire.PING_CODE))
        reply = wire.read_reply(sock)  # the ping's: the reply frame got no answer
        assert (reply.command, reply.status, reply.body) == (wire.COMMAND_REPLY, 0, b"")


async def test_a_frame_cut_short_then_closed_is_forgotten(iggy_server, client):
    with wire.open_connection(iggy_server.tcp_address) as sock:
        sock.sendall(wire.request_frame(body=bytes(100))[:266])  # header + 10 of 100 bytes
    await assert_server_still_serves(iggy_server.tcp_address, client)


async def test_a_half_sent_frame_does_not_hold_up_other_clients(iggy_server, client):
    with wire.open_connection(iggy_server.tcp_address) as stalled:
        stalled.sendall(wire.request_frame()[:100])
        await assert_server_still_serves(iggy_server.tcp_address, client)
        stalled.sendall(wire.request_frame()[100:])  # finishing the frame is still served
        reply = wire.read_reply(stalled)
        assert (reply.command, reply.status, reply.body) == (wire.COMMAND_REPLY, 0, b"")


async def test_raw_ping_before_login(iggy_server):
    with wire.open_connection(iggy_server.tcp_address) as sock:
        for _ in range(2):
            sock.sendall(wire.request_frame(wire.PING_CODE))
            reply = wire.read_reply(sock)
            assert (reply.command, reply.operation, reply.status, reply.body) == (
                wire.COMMAND_REPLY, wire.OP_NON_REPLICATED, 0, b"")


async def test_an_unknown_command_code_is_refused_and_the_connection_stays(iggy_server):
    with wire.open_connection(iggy_server.tcp_address) as sock:
        sock.sendall(wire.request_frame(9999, b"\x01\x02"))
        refused = wire.read_reply(sock)
        assert refused.command == wire.COMMAND_REPLY
        assert refused.status != 0
        assert refused.body == b""
        sock.sendall(wire.request_frame(wire.PING_CODE))
        assert wire.read_reply(sock).status == 0


async def test_twenty_clients_send_and_poll_at_once(iggy_server, client, unique):
    stream = unique("rob-many")
    await client.create_stream(stream)
    await client.create_topic(stream, "t", partitions_count=4)
    clients = await asyncio.gather(*(connect(iggy_server.tcp_address, announce=False)
                                     for _ in range(20)))

    async def work(n: int, own) -> list[bytes]:
        partition = n % 4
        for batch in range(5):
            await own.send_messages(stream, "t", partition,
                                    [SendMessage(f"c{n}-{batch}-{i}") for i in range(4)])
        polled = await own.poll_messages(stream, "t", consumer=Consumer.Single(f"c{n}"),
                                         polling_strategy=PollingStrategy.First(), count=1000,
                                         auto_commit=False, partition_id=partition)
        return [m.payload() for m in polled]

    seen = await asyncio.wait_for(asyncio.gather(*(work(n, c) for n, c in enumerate(clients))),
                                  timeout=30)
    for n, payloads in enumerate(seen):
        mine = [p for p in payloads if p.startswith(f"c{n}-".encode())]
        assert mine == [f"c{n}-{b}-{i}".encode() for b in range(5) for i in range(4)]
    topic = await client.get_topic(stream, "t")
    assert [p.messages_count for p in topic.partitions] == [100, 100, 100, 100]
    for partition in topic.partitions:
        assert partition.current_offset == 99
