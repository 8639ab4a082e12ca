"""Messages as the REST API writes and reads them, without a server: the poll's JSON text
and the ids given to messages sent without one."""

from __future__ import annotations

import base64
import json
import random
import struct
import uuid

import pytest

from sandbox.http.batches import Outgoing, build_batch, read_batch
from sandbox.http.errors import json_reply
from sandbox.http.jsonbody import JsonRejection
from sandbox.http.jsonshapes import b64
from sandbox.http.messagejson import decode_send, polled_text, random_ids, user_headers_json
from sandbox.state.messages import Polled
from sandbox.wire import messages as wire


def stamped(messages: list[Outgoing], base_offset: int, reserved: int = 0) -> bytes:
    """A batch as the server stores it: partition, base offset and timestamp filled in."""
    batch = bytearray(build_batch(messages, origin_timestamp=1_000))
    struct.pack_into("<QQQ", batch, 0, 3, base_offset, 2_000 + base_offset)
    pos = wire.BATCH_HEADER_SIZE
    for message in messages:  # the reserved u64 ends each frame header
        struct.pack_into("<Q", batch, pos + wire.FRAME_HEADER_SIZE - 8, reserved)
        pos += wire.FRAME_HEADER_SIZE + len(message.payload) + len(message.user_headers)
    return bytes(batch)


def polled_as_a_dict(polled: Polled) -> dict:
    """The poll written out field by field, as the API's JSON shape is documented."""
    return {"partition_id": polled.partition_id, "current_offset": polled.current_offset,
            "count": sum(1 for batch in polled.batches for _ in read_batch(batch)),
            "messages": [
                {"header": {"checksum": m.checksum, "id": m.id, "offset": m.offset,
                            "timestamp": m.timestamp, "origin_timestamp": m.origin_timestamp,
                            "user_headers_length": len(m.user_headers),
                            "payload_length": len(m.payload), "reserved": m.reserved},
                 "payload": b64(m.payload), "user_headers": user_headers_json(m.user_headers)}
                for batch in polled.batches for m in read_batch(batch)]}


def test_the_poll_json_is_byte_for_byte_what_json_reply_writes():
    headers = (struct.pack("<BI", 2, 4) + b"unit" + struct.pack("<BI", 11, 4)
               + struct.pack("<I", 7))
    batch = stamped([Outgoing(7, b"plain", b""), Outgoing(2**100, b"h", headers)], 40)
    checksums = struct.unpack_from("<Q", batch, wire.BATCH_HEADER_SIZE)[0], struct.unpack_from(
        "<Q", batch, wire.BATCH_HEADER_SIZE + wire.FRAME_HEADER_SIZE + 5)[0]
    expected = {"partition_id": 3, "current_offset": 41, "count": 2, "messages": [
        {"header": {"checksum": checksums[0], "id": 7, "offset": 40, "timestamp": 2_040,
                    "origin_timestamp": 1_000, "user_headers_length": 0, "payload_length": 5,
                    "reserved": 0},
         "payload": b64(b"plain"), "user_headers": []},
        {"header": {"checksum": checksums[1], "id": 2**100, "offset": 41, "timestamp": 2_040,
                    "origin_timestamp": 1_000, "user_headers_length": len(headers),
                    "payload_length": 1, "reserved": 0},
         "payload": b64(b"h"),
         "user_headers": [{"key": {"kind": "string", "value": b64(b"unit")},
                           "value": {"kind": "uint32", "value": b64(struct.pack("<I", 7))}}]},
    ]}
    assert polled_text(Polled(3, 41, 2, [batch])).encode() == json_reply(expected).body
    assert polled_text(Polled(0, 0, 0, [])).encode() == json_reply(
        {"partition_id": 0, "current_offset": 0, "count": 0, "messages": []}).body


def random_headers(rng: random.Random) -> bytes:
    """Nothing, well-formed TLV, or bytes that do not parse (sent as one base64 string)."""
    choice = rng.randrange(3)
    if choice == 0:
        return b""
    if choice == 1:
        block = b""
        for _ in range(rng.randint(1, 3)):
            key, value = rng.randbytes(rng.randint(1, 20)), rng.randbytes(rng.randint(1, 40))
            block += struct.pack("<BI", 2, len(key)) + key + struct.pack("<BI", 1, len(value))
            block += value
        return block
    return rng.randbytes(rng.randint(1, 30))


def test_random_polls_are_byte_for_byte_what_json_reply_writes_of_their_fields():
    rng = random.Random(12)
    for _ in range(300):
        batches, offset = [], rng.randrange(2**40)
        for _ in range(rng.randint(0, 4)):
            messages = [Outgoing(rng.choice((1, rng.randrange(1, 2**64), rng.randrange(1, 2**128))),
                                 rng.randbytes(rng.randint(1, 300)), random_headers(rng))
                        for _ in range(rng.randint(1, 20))]
            batches.append(stamped(messages, offset, rng.choice((0, rng.randrange(2**64)))))
            offset += len(messages)
        polled = Polled(rng.randrange(2**32), offset, 0, batches)
        assert polled_text(polled).encode() == json_reply(polled_as_a_dict(polled)).body


def send_body(messages: list[dict]) -> bytes:
    return json.dumps({"partitioning": {"kind": "balanced", "value": ""},
                       "messages": messages}).encode()


def test_messages_sent_without_an_id_get_version_4_uuids_read_little_endian_as_iggy_does():
    _, sent = decode_send(send_body([{"payload": b64(b"a")}, {"id": 0, "payload": b64(b"b")},
                                     {"id": 5, "payload": b64(b"c")}]))
    ids = [m.id for m in sent]
    assert ids[2] == 5 and ids[0] != ids[1]
    for number in ids[:2] + random_ids(50):
        as_uuid = uuid.UUID(bytes=number.to_bytes(16, "little"))
        assert (as_uuid.version, as_uuid.variant) == (4, uuid.RFC_4122)


@pytest.mark.parametrize("messages, refusal", [
    ([{"payload": "not base64!"}, {"id": "not an id", "payload": b64(b"x")}],
     "Invalid base64 payload"),
    ([{"payload": b64(b"x")}, {"id": "not an id", "payload": "not base64!"}],
     "Invalid message ID"),
    ([{"id": -1, "payload": b64(b"x")}], "Invalid message ID: ID must be a positive"),
    # beyond 64 bits serde_json reads a number as a float
    ([{"id": 2**64, "payload": b64(b"x")}], "Invalid message ID: ID must be a number"),
    ([{"payload": b64(b"x")}, "not an object"], "missing field `payload`"),
])
def test_a_bad_batch_is_refused_for_its_first_bad_message(messages, refusal):
    with pytest.raises(JsonRejection) as raised:
        decode_send(send_body(messages))
    assert raised.value.status == 422 and refusal in raised.value.text


def test_payloads_and_ids_arrive_as_sent():
    payloads = [bytes([n]) * n for n in range(1, 40)]
    _, sent = decode_send(send_body([{"id": n, "payload": base64.b64encode(p).decode()}
                                     for n, p in enumerate(payloads, 1)]))
    assert [(m.id, m.payload, m.user_headers) for m in sent] == [
        (n, p, b"") for n, p in enumerate(payloads, 1)]
