"""The frame decoder never raises on what a feed sends, and says why it refused a frame."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitl_console.protocol.decode import MAX_FRAME_BYTES, Decoded, decode_frame, decode_msgpack, decode_object

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
TYPES = ["conversation.started", "message", "ai.action", "approval.requested", "approval.resolved", "human.joined",
         "human.left", "conversation.ended", "scorecard", "heartbeat", "ack", "ai.escalation_requested", "x.unknown"]
FIELDS = ["v", "seq", "ts", "conversation_id", "role", "text", "confidence", "sentiment", "channel", "queue", "customer",
          "agent", "outcome", "csat", "approval_id", "decision", "request_id", "ok", "overall", "criteria", "voice", "topics"]
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={name: json_values for name in FIELDS},
)


def _sane(result: Decoded, items: int) -> None:
    assert isinstance(result, Decoded)
    total = len(result.events) + len(result.heartbeats) + len(result.acks) + len(result.unknown) + len(result.rejected)
    assert total == items or (items == 1 and total >= 1)
    for rejected in result.rejected:
        assert rejected.reason and isinstance(rejected.excerpt, str)
        assert all(ch.isprintable() for ch in rejected.excerpt)


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_decode_without_raising(data):
    result = decode_frame(data, "fuzz")
    assert isinstance(result, Decoded)


@FUZZ
@given(st.text(max_size=2048))
def test_any_text_decodes_without_raising(text):
    result = decode_frame(text, "fuzz")
    assert isinstance(result, Decoded)


@FUZZ
@given(json_values)
def test_any_json_value_decodes_without_raising(value):
    result = decode_frame(json.dumps(value), "fuzz")
    _sane(result, len(value) if isinstance(value, list) else 1)


@FUZZ
@given(st.lists(event_like, min_size=1, max_size=4))
def test_event_shaped_dicts_never_raise_as_json_or_msgpack(items):
    for frame in (json.dumps(items), msgpack.packb(items)):
        result = decode_frame(frame, "fuzz")
        _sane(result, len(items))
    assert isinstance(decode_object(items[0]), Decoded)


def test_nesting_deeper_than_any_event_is_refused_not_crashed():
    deep = "[" * 5000 + "]" * 5000
    assert decode_frame(deep).rejected
    packed = b"\x91" * 5000 + b"\xc0"
    assert isinstance(decode_frame(packed), Decoded)


def test_an_array_of_events_in_order():
    events = [
        {"v": 1, "type": "message", "seq": i, "ts": 10.0 + i, "conversation_id": "c", "role": "customer", "text": "hi"}
        for i in (1, 2, 3)
    ]
    for frame in (json.dumps(events), msgpack.packb(events)):
        result = decode_frame(frame)
        assert [e.seq for e in result.events] == [1, 2, 3] and not result.rejected


def test_heartbeat_ack_and_unknown_types_are_sorted():
    frame = json.dumps([
        {"v": 1, "type": "heartbeat", "ts": 5.0},
        {"v": 1, "type": "ack", "request_id": "r", "ok": False, "error": "held by bob"},
        {"v": 1, "type": "typing.started", "seq": 4},
        {"v": 1, "type": "typing.started"},
    ])
    result = decode_frame(frame)
    assert len(result.heartbeats) == 1 and result.acks[0].error == "held by bob"
    assert result.unknown == ["typing.started", "typing.started"]


def test_wrong_types_are_rejected_with_the_field_named():
    bad = {"v": 1, "type": "message", "seq": 7, "ts": 1.0, "conversation_id": "c-1", "role": "customer", "text": "x", "confidence": 3}
    result = decode_frame(json.dumps(bad))
    [rejected] = result.rejected
    assert rejected.reason.startswith("confidence:") and rejected.seq == 7 and rejected.conversation_id == "c-1"
    assert rejected.type == "message"
    wrong_seq = decode_frame(json.dumps({**bad, "confidence": 0.5, "seq": "seven"})).rejected[0]
    assert "seq" in wrong_seq.reason and wrong_seq.seq is None
    assert decode_frame(json.dumps({"seq": 1})).rejected[0].reason == "missing or non-text 'type'"
    assert decode_frame("[1]").rejected[0].reason == "not a JSON object"


def test_huge_frames_are_refused_unread():
    big = json.dumps({"v": 1, "type": "message", "text": "x" * MAX_FRAME_BYTES})
    [rejected] = decode_frame(big).rejected
    assert rejected.reason.startswith("frame too large")
    assert len(rejected.excerpt) <= 200
    assert decode_frame(b"\x00" * (MAX_FRAME_BYTES + 1)).rejected[0].reason.startswith("frame too large")


def test_malformed_input_says_so():
    assert decode_frame("{").rejected[0].reason.startswith("malformed JSON")
    assert decode_frame(b"\xc1").rejected[0].reason.startswith("malformed MessagePack")
    assert "\x1b" not in decode_frame("\x1b[31m{").rejected[0].excerpt


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("seq", True, "seq"),
        ("seq", "5", "seq"),
        ("ts", float("nan"), "ts"),
        ("ts", float("inf"), "ts"),
        ("confidence", "0.4", "confidence"),
    ],
)
def test_values_of_the_wrong_type_are_not_coerced(field: str, value: object, needle: str) -> None:
    """A feed that sends ``"seq": true`` or a NaN time has a bug worth seeing:
    the frame is rejected with the field named, never silently coerced."""

    frame = {"v": 1, "type": "message", "seq": 4, "ts": 1.0, "conversation_id": "c", "role": "ai", "text": "x"}
    frame[field] = value
    decoded = decode_msgpack(msgpack.packb(frame))
    assert not decoded.events
    assert len(decoded.rejected) == 1 and needle in decoded.rejected[0].reason
    assert decoded.rejected[0].seq in (None, 4)
