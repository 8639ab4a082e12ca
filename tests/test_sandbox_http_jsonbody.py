"""The shortcuts of the serde-style JSON reader agree with its slow paths on every text: the
C-scanned read of an array (a send's messages) and the read of a string without escapes
give the same values, the same end position, the same refusal."""

from __future__ import annotations

import json
import re
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.http import jsonbody
from sandbox.http.jsonbody import AnyValue, AnyValues, Decoder, JsonRejection, Sequence


def outcome(kind, raw: bytes) -> tuple:
    decoder = Decoder(raw)
    try:
        value = kind.read(decoder)
    except JsonRejection as refusal:
        return "refused", refusal.status, refusal.text
    except Exception as error:  # noqa: BLE001 - whatever the reader raises, both must raise
        return "raised", type(error).__name__, str(error)
    return "read", repr(value), decoder.index  # repr: 1 and 1.0 differ


def assert_same(raw: bytes) -> None:
    assert outcome(AnyValues(), raw) == outcome(Sequence(AnyValue()), raw), raw[:300]


@pytest.mark.parametrize("text", [
    '[]', ' [ 1 , 2 ] ', '[NaN]', '[Infinity]', '[-Infinity]', f'[{2**64 - 1}, {2**64}]',
    f'[{-2**63}, {-2**63 - 1}]', '[1e999, -0, -0.0, 1E+2, 1.5e-3]', '["\\ud800", "\\u00e9"]',
    '["é"]', '["tab\there"]', '["\\x"]', '[1,]', '[01]', '[-]', '[1.]', '[tru]', '[null',
    '[{"a": 1, "a": 2}]', '[{"a" 1}]', '[{1: 2}]', '{"not": "an array"}', '"text"', '',
    '[' * 300 + ']' * 300, '[{"id": 0, "payload": "AAAA", "user_headers": null}]',
])
def test_chosen_texts_read_alike(text):
    assert_same(text.encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=12)
breakers = st.sampled_from(['"', "\\", ",", "]", "[", "{", "}", ":", "NaN", "-", "0", "e",
                            "\x01", "é", "\\u", "\\ud800", " ", "tru", "1.", "null"])


@settings(max_examples=400, deadline=None)
@given(values=st.lists(json_values, max_size=6), ascii_only=st.booleans(),
       edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 2), breakers),
                      max_size=3))
def test_any_text_reads_alike(values, ascii_only, edits):
    text = json.dumps(values, ensure_ascii=ascii_only)
    for position, action, piece in edits:  # insert, replace or delete at a position
        at = position % (len(text) + 1)
        text = (text[:at] + piece + text[at:] if action == 0 else
                text[:at] + piece + text[at + 1:] if action == 1 else text[:at] + text[at + 1:])
    assert_same(text.encode())


def string_outcome(raw: bytes) -> tuple:
    decoder = Decoder(raw)
    try:
        return "read", decoder.string(), decoder.index
    except JsonRejection as refusal:
        return "refused", refusal.status, refusal.text


@settings(max_examples=400, deadline=None)
@given(body=st.lists(st.sampled_from([b"a", b"\xc3\xa9", b"\xed\xa0\x80", b"\xff", b"\\", b"\\n",
                                      b"\\u00e9", b"\\x", b"\x01", b"\n", b'"', b" "]),
                     max_size=12).map(b"".join))
def test_a_plain_string_is_read_as_the_byte_by_byte_walk_reads_it(body):
    raw = b'"' + body
    walk_everywhere = re.compile(b"")  # matches at once: every string takes the walk
    with patch.object(jsonbody, "_ESCAPE_OR_CONTROL", walk_everywhere):
        walked = string_outcome(raw)
    assert string_outcome(raw) == walked
