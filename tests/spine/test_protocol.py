"""The wire contract: topics and envelopes round-trip, and nothing hostile gets through."""

import contextlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wire import TopicError, TopicKind, decode_device_message, encode, envelope, parse
from wire.messages import (
    ALL_DEVICE_TYPES,
    CardReadData,
    CardReadMessage,
    StateData,
    StateMessage,
    SurveyData,
    SurveyMessage,
    json_schema,
)
from wire.topics import branch_topic, device_topic

ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,31}", fullmatch=True)
HASH = "ab" * 32


@given(branch=ids, device=ids, event=ids)
def test_device_topics_round_trip(branch: str, device: str, event: str) -> None:
    """GIVEN any valid ids WHEN a topic is built and parsed THEN the same parts come back."""
    for kind in (TopicKind.STATE, TopicKind.STATUS, TopicKind.HEARTBEAT, TopicKind.REPLY,
                 TopicKind.COMMAND, TopicKind.COMMAND_RESULT):
        t = parse(device_topic(branch, device, kind))
        assert (t.branch, t.device, t.kind) == (branch, device, kind)
    t = parse(device_topic(branch, device, TopicKind.EVENT, event))
    assert (t.branch, t.device, t.kind, t.event) == (branch, device, TopicKind.EVENT, event)
    assert parse(branch_topic(branch, TopicKind.QUEUE_BOARD)).kind is TopicKind.QUEUE_BOARD


@given(st.text(max_size=80))
def test_any_string_parses_or_raises_topic_error(topic: str) -> None:
    """GIVEN arbitrary text WHEN parsed as a topic THEN it is a Topic or a TopicError, never a crash."""
    try:
        t = parse(topic)
    except TopicError:
        return
    assert str(t) == topic


@pytest.mark.parametrize("bad", ["sz/v1/B001/dev/k1/state", "sz/v1/b001/dev/k1", "sz/v2/b001/queue/board",
                                 "sz/v1/b001/dev/k1/evt/", "sz/v1/b001/dev/k1/evt/a/b", "sz/v1/../dev/x/hb",
                                 "sz/v1/b001/dev/+/state", "sz/v1/b001/queue/nope"])
def test_bad_topics_are_named(bad: str) -> None:
    """GIVEN malformed topics THEN the error says which part is wrong."""
    with pytest.raises(TopicError):
        parse(bad)


def test_every_message_type_round_trips() -> None:
    """GIVEN a message of each kind WHEN encoded and decoded THEN it is equal to the original."""
    samples = [
        envelope(StateMessage, branch="b001", device="k1", seq=0,
                 data=StateData(online=True, session=7, model="SZ-K1", sw="1.2", components=["printer"])),
        envelope(CardReadMessage, branch="b001", device="k1", seq=1,
                 data=CardReadData(card_kind="bank", card_hash=HASH, masked="622848******1234")),
        envelope(SurveyMessage, branch="b001", device="k1", seq=2, data=SurveyData(score=5, tags=["fast"])),
    ]
    for msg in samples:
        assert decode_device_message(encode(msg)) == msg


def _raw(type_: str, data: dict, **over) -> bytes:
    body = {"v": 1, "id": str(uuid.uuid4()), "ts": datetime.now(UTC).isoformat(), "branch": "b001",
            "device": "k1", "seq": 1, "type": type_, "data": data}
    body.update(over)
    return json.dumps(body).encode()


def test_clear_card_number_is_rejected() -> None:
    """GIVEN a card read that carries the clear number THEN validation refuses it."""
    with pytest.raises(ValidationError):
        decode_device_message(_raw("card_read", {"card_kind": "bank", "card_hash": HASH,
                                                 "masked": "6228481234561234"}))
    with pytest.raises(ValidationError):
        decode_device_message(_raw("card_read", {"card_kind": "bank", "card_hash": HASH,
                                                 "masked": "622848******1234", "pan": "6228481234561234"}))


@pytest.mark.parametrize("override", [{"v": 2}, {"seq": -1}, {"ts": "yesterday"}, {"ts": "2026-11-28T10:00:00"},
                                      {"branch": "B 1"}, {"id": "not-a-uuid"}, {"extra": 1}])
def test_envelope_rules(override: dict) -> None:
    """GIVEN an envelope that breaks one rule (version, seq, aware time, ids, extras) THEN it is refused."""
    with pytest.raises(ValidationError):
        decode_device_message(_raw("survey", {"score": 3}, **override))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=20))
def test_random_json_never_crashes_validation(value) -> None:
    """GIVEN arbitrary JSON THEN decoding either validates or raises ValidationError, nothing else."""
    with contextlib.suppress(ValidationError):
        decode_device_message(json.dumps(value))


def test_json_schema_covers_every_type() -> None:
    """GIVEN the published schema THEN every device message type appears in it."""
    text = json.dumps(json_schema())
    for name in ALL_DEVICE_TYPES:
        assert f'"{name}"' in text
