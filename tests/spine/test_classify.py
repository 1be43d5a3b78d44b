"""Each kind of bad input becomes a dead letter with a reason a person can act on."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from device_hub.ingest.classify import classify
from server.ingest.records import DeadLetterRecord, EventRecord

BRANCHES = {"b001", "b002"}
T = "sz/v1/b001/dev/k1/evt/survey"


def body(**over) -> bytes:
    b = {"v": 1, "id": str(uuid.uuid4()), "ts": datetime.now(UTC).isoformat(), "branch": "b001",
         "device": "k1", "seq": 3, "type": "survey", "data": {"score": 4}}
    b.update(over)
    return json.dumps(b).encode()


def reason(topic: str, payload: bytes, max_bytes: int = 65536) -> str:
    rec = classify(topic, payload, branches=BRANCHES, max_bytes=max_bytes)
    assert isinstance(rec, DeadLetterRecord), rec
    assert rec.payload == payload[:4096] and rec.size == len(payload)
    return rec.reason


def test_good_message_becomes_event() -> None:
    """GIVEN a valid survey on its own topic THEN it is an event with the envelope's id."""
    payload = body()
    rec = classify(T, payload, branches=BRANCHES, max_bytes=65536)
    assert isinstance(rec, EventRecord)
    assert rec.id == json.loads(payload)["id"] and rec.data == {"score": 4, "tags": []}


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
    a = classify(T, b"{", branches=BRANCHES, max_bytes=100)
    b = classify(T, b"{", branches=BRANCHES, max_bytes=100)
    assert a.digest == b.digest


def test_nul_characters_are_refused() -> None:
    """GIVEN text with an escaped NUL (which PostgreSQL cannot store) THEN it is an invalid message, named."""
    rec = classify(T, body(data={"score": 4, "tags": ["a\u0000b"]}), branches=BRANCHES, max_bytes=65536)
    assert rec.reason == "invalid_message" and "NUL" in rec.detail
