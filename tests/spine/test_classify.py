"""Each kind of bad input becomes a dead letter with a reason a person can act on."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from device_hub.ingest import classify as classify_module
from device_hub.ingest.classify import Limits
from server.ingest.records import DeadLetterRecord, EventRecord
from wire.messages import SurveyData

BRANCHES = {"b001", "b002"}
T = "sz/v1/b001/dev/k1/evt/survey"


def body(**over) -> bytes:
    b = {"v": 1, "id": str(uuid.uuid4()), "ts": datetime.now(UTC).isoformat(), "branch": "b001",
         "device": "k1", "seq": 3, "type": "survey", "data": {"score": 4}}
    b.update(over)
    return json.dumps(b).encode()


def classify(topic: str, payload: bytes, *, max_bytes: int = 65536, now: datetime | None = None,
             **limits) -> EventRecord | DeadLetterRecord:
    return classify_module.classify(topic, payload, branches=BRANCHES, now=now or datetime.now(UTC),
                                    limits=Limits(max_bytes=max_bytes, **limits))


def reason(topic: str, payload: bytes, max_bytes: int = 65536) -> str:
    rec = classify(topic, payload, max_bytes=max_bytes)
    assert isinstance(rec, DeadLetterRecord), rec
    assert rec.payload == payload[:4096] and rec.size == len(payload)
    return rec.reason


def test_good_message_becomes_event() -> None:
    """GIVEN a valid survey on its own topic THEN it is an event with the envelope's id."""
    payload = body()
    rec = classify(T, payload)
    assert isinstance(rec, EventRecord)
    assert rec.id == json.loads(payload)["id"] and rec.data == SurveyData(score=4)


@pytest.mark.parametrize(("topic", "payload", "expected"), [
    (T, b"{not json", "invalid_json"),
    (T, b"\xff\xfe\x00garbage", "invalid_json"),
    (T, b"", "invalid_json"),
    (T, body(type="teleport"), "unknown_type"),
    (T, body(data={"score": "five"}), "invalid_message"),
    (T, body(data={"score": 9}), "invalid_message"),
    (T, body(seq="x"), "invalid_message"),
    (T, body(device="k2"), "topic_mismatch"),
    ("sz/v1/b001/dev/k1/evt/visit", body(), "topic_mismatch"),
    ("sz/v1/b001/dev/k1/status", body(), "topic_mismatch"),
    ("sz/v1/b009/dev/k1/evt/survey", body(branch="b009"), "unknown_branch"),
    ("sz/v1/b001/dev/k1", body(), "bad_topic"),
    ("sz/v1/b001/queue/board", body(), "bad_topic"),
    ("sz/v1/b001/dev/k1/reply", body(), "bad_topic"),
    ("other/topic", body(), "bad_topic"),
])
def test_bad_input_reasons(topic: str, payload: bytes, expected: str) -> None:
    """GIVEN malformed, mistyped, misaddressed or foreign messages THEN each gets its own reason."""
    assert reason(topic, payload) == expected


def test_oversized_payload_is_refused_before_parsing() -> None:
    """GIVEN a payload over the limit THEN it is dead-lettered as oversized, keeping only its head."""
    payload = body(data={"score": 4, "tags": ["x"] * 5000})
    assert reason(T, payload, max_bytes=1024) == "oversized"


def test_same_bytes_same_digest() -> None:
    """GIVEN the same bad message twice (a redelivery) THEN the digests match, so it is stored once."""
    a = classify(T, b"{", max_bytes=100)
    b = classify(T, b"{", max_bytes=100)
    assert a.digest == b.digest


def test_nul_characters_are_refused() -> None:
    """GIVEN text with an escaped NUL (which PostgreSQL cannot store) THEN it is an invalid message, named."""
    rec = classify(T, body(data={"score": 4, "tags": ["a\u0000b"]}))
    assert rec.reason == "invalid_message" and "NUL" in rec.detail


@pytest.mark.parametrize("ts", ["1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z"])
def test_events_dated_far_from_the_hubs_clock_are_clock_skew(ts: str) -> None:
    """GIVEN events dated 1970 and 2099 THEN each is dead-lettered as clock_skew, keeping its id for the device."""
    payload = body(ts=ts)
    rec = classify(T, payload)
    assert isinstance(rec, DeadLetterRecord) and rec.reason == "clock_skew", rec
    assert rec.event_id == json.loads(payload)["id"] and (rec.branch, rec.device) == ("b001", "k1")


def test_clock_window_is_configurable_and_a_late_will_is_accepted() -> None:
    """GIVEN a 5-minute window WHEN an event is 6 minutes ahead, another 2 days old, and a last will dated at
    its connection 40 days ago arrive THEN the first two are clock_skew and the will is an event."""
    now = datetime.now(UTC)
    window = {"max_ahead": timedelta(minutes=5), "max_age": timedelta(days=1)}
    ahead = classify(T, body(ts=(now + timedelta(minutes=6)).isoformat()), now=now, **window)
    old = classify(T, body(ts=(now - timedelta(days=2)).isoformat()), now=now, **window)
    will = classify("sz/v1/b001/dev/k1/state", body(type="state", ts=(now - timedelta(days=40)).isoformat(),
                                                    data={"online": False, "session": 7}), now=now, **window)
    assert ahead.reason == "clock_skew" and "ahead" in ahead.detail
    assert old.reason == "clock_skew" and "old" in old.detail
    assert isinstance(will, EventRecord)


@pytest.mark.parametrize("text", ["abc\u202edcba", "line\nbreak", "bell\x07", "iso\u2066late"])
def test_control_and_bidi_override_characters_are_refused(text: str) -> None:
    """GIVEN a status detail with a bidi override, a newline, a bell or an isolate THEN it is an invalid
    message naming the character, not stored text that misleads staff reading it."""
    payload = body(type="status", data={"component": "printer", "device": "online", "detail": text})
    rec = classify("sz/v1/b001/dev/k1/status", payload)
    assert rec.reason == "invalid_message" and "U+" in rec.detail


def test_a_dead_letter_names_the_envelope_id_even_when_it_fails_validation() -> None:
    """GIVEN an envelope with a bad field THEN its dead letter still names its id and device, so the hub can
    tell the device to stop sending it."""
    payload = body(data={"score": 9})
    rec = classify(T, payload)
    assert rec.reason == "invalid_message" and rec.event_id == json.loads(payload)["id"] and rec.device == "k1"
