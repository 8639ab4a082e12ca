"""The fast ways through a batch's frames answer exactly what the frame-by-frame walk answers.

A batch whose frames share one size is checked all at once (numpy over records of that
size), and a stored one is cut by that stride; any other batch is walked frame by frame,
which also names what is wrong. Here every batch, whole or damaged in one field of one
frame, goes through both ways: the same checksums, or the same refusal.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import IggyError
from sandbox.http.batches import Outgoing, build_batch
from sandbox.wire import messages as wire

# (name, offset in the frame, struct format) of every frame field the server checks
FIELDS = [("checksum", 0, "<Q"), ("offset_delta", 24, "<I"), ("headers_len", 32, "<I"),
          ("payload_len", 36, "<I"), ("reserved", 40, "<Q")]


def outcome(batch: bytes, count: int, *, walk: bool) -> tuple:
    """``frame_checksums`` as sums and frame size, or as the refusal's code and values."""
    saved = wire._WALK_BELOW
    wire._WALK_BELOW = 2**32 if walk else saved
    try:
        return wire.frame_checksums(memoryview(batch), count)
    except IggyError as error:
        return ("refused", error.code, error.args_)
    finally:
        wire._WALK_BELOW = saved


def uniform_batch(count: int, payload: int, headers: int) -> bytes:
    return build_batch([Outgoing(i + 1, bytes([i % 251]) * payload, b"h" * headers)
                        for i in range(count)], 1_000)


@settings(max_examples=300, deadline=None)
@given(count=st.integers(32, 300), payload=st.integers(1, 300), headers=st.integers(0, 40),
       damage=st.one_of(st.none(), st.tuples(st.integers(0, 299), st.sampled_from(FIELDS),
                                             st.integers(0, 2**32 - 1))))
def test_the_uniform_check_agrees_with_the_walk(count, payload, headers, damage):
    batch = bytearray(uniform_batch(count, payload, headers))
    if damage is not None:
        index, (_, offset, fmt), value = damage
        stride = wire.FRAME_HEADER_SIZE + payload + headers
        struct.pack_into(fmt, batch, wire.BATCH_HEADER_SIZE + index % count * stride + offset,
                         value)
    fast, walked = outcome(bytes(batch), count, walk=False), outcome(bytes(batch), count,
                                                                     walk=True)
    if fast[0] == "refused" or walked[0] == "refused":
        assert fast == walked
    else:
        assert fast[0] == walked[0]
        assert fast[1] in (0, (len(batch) - wire.BATCH_HEADER_SIZE) // count)


def test_a_valid_uniform_batch_reports_its_frame_size():
    batch = uniform_batch(40, 100, 3)
    sums, stride = outcome(batch, 40, walk=False)
    assert stride == wire.FRAME_HEADER_SIZE + 103
    assert (sums, 0) == outcome(batch, 40, walk=True)


@pytest.mark.parametrize("sizes", [[20] * 40, [1 + i * 37 % 300 for i in range(40)]],
                         ids=["one size", "many sizes"])
def test_a_layout_gives_each_cut_the_checksums_of_its_frames(sizes):
    batch = build_batch([Outgoing(i + 1, b"p" * n, b"") for i, n in enumerate(sizes)], 7)
    count = len(sizes)
    all_sums, _ = outcome(batch, count, walk=True)
    layout = wire.frame_layout(batch, count)
    assert bool(layout.stride) == (len(set(sizes)) == 1)
    for lo, hi in ((0, 1), (3, 17), (count - 1, count), (5, count)):
        start, length = layout.span(lo, hi)
        frames = batch[wire.BATCH_HEADER_SIZE + start:][:length]
        assert layout.checksums(frames, lo, hi) == all_sums[8 * lo:8 * hi]
