"""Ingest through a real Mosquitto into SQLite and PostgreSQL: every event exactly once."""

import json
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from server.events.models import DeadLetter, Event
from server.events.service import counts
from tests.spine.hubkit import HubThread, simulate
from tests.support import wait_until
from wire import encode, envelope
from wire.messages import SurveyData, SurveyMessage


def stored(factory, what: str = "events") -> int:
    with factory() as s:
        return counts(s)[what]


def test_ten_thousand_events_exactly_once(mosquitto, migrated) -> None:
    """GIVEN 5 simulated kiosks sending 2,000 business events each through a real broker
    WHEN the hub ingests them THEN the event log holds exactly what was published: 10,000 business
    events plus each kiosk's birth and goodbye, none doubled."""
    _engine, factory = migrated
    with HubThread(mosquitto.url, factory) as hub:
        result = simulate(mosquitto.url, count=5, events=2000)
        assert result.published == 10_010 and result.unconfirmed == 0
        wait_until(lambda: stored(factory) >= result.published, timeout=60, message="all events stored")
    with factory() as s:
        assert counts(s)["events"] == 10_010
        business = s.scalar(select(func.count()).select_from(Event).where(Event.type != "state"))
        assert business == 10_000
        assert counts(s)["devices"] == 5 and counts(s)["visits"] > 0
    assert hub.counters.duplicates == 0 and hub.counters.dead_lettered == 0


def _publish_raw(url: str, items: list[tuple[str, bytes]]) -> None:
    host, port = url.removeprefix("mqtt://").split(":")
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="garbage-sender")
    c.connect(host, int(port))
    c.loop_start()
    for topic, payload in items:
        c.publish(topic, payload, qos=1).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def test_garbage_is_dead_lettered_and_hub_keeps_going(mosquitto, migrated) -> None:
    """GIVEN malformed JSON, wrong types, unknown types, an oversized payload, a topic/payload
    mismatch and an unknown branch, mixed with good traffic
    WHEN the hub ingests them THEN each bad one is a dead letter with its reason and bytes,
    and every good event is still stored."""
    _engine, factory = migrated
    good = {"v": 1, "ts": datetime.now(UTC).isoformat(), "branch": "b001", "device": "k9", "seq": 1,
            "type": "survey", "data": {"score": 4}}

    def msg(**over) -> bytes:
        return json.dumps({**good, "id": str(uuid.uuid4()), **over}).encode()

    bad = [
        ("sz/v1/b001/dev/k9/evt/survey", b'{"v":1,"id":'),
        ("sz/v1/b001/dev/k9/evt/survey", msg(data={"score": "high"})),
        ("sz/v1/b001/dev/k9/evt/teleport", msg(type="teleport")),
        ("sz/v1/b001/dev/k9/evt/survey", msg(data={"score": 4, "tags": ["x" * 30] * 3000})),
        ("sz/v1/b001/dev/k1/evt/survey", msg()),
        ("sz/v1/b777/dev/k9/evt/survey", msg(branch="b777")),
    ]
    with HubThread(mosquitto.url, factory, max_payload_bytes=4096):
        _publish_raw(mosquitto.url, [*bad[:3], ("sz/v1/b001/dev/k9/evt/survey", msg()), *bad[3:]])
        result = simulate(mosquitto.url, count=2, events=50)
        wait_until(lambda: stored(factory) >= result.published + 1, timeout=30, message="good events")
        wait_until(lambda: stored(factory, "dead_letters") >= 6, timeout=10, message="dead letters")
    with factory() as s:
        reasons = sorted(s.scalars(select(DeadLetter.reason)))
        assert reasons == sorted(["invalid_json", "invalid_message", "unknown_type", "oversized",
                                  "topic_mismatch", "unknown_branch"])
        kept = s.scalar(select(DeadLetter).where(DeadLetter.reason == "invalid_json"))
        assert kept.payload == b'{"v":1,"id":' and kept.topic == "sz/v1/b001/dev/k9/evt/survey"
        assert counts(s)["events"] == result.published + 1


def test_an_event_that_breaks_the_domain_is_isolated(mosquitto, migrated, monkeypatch) -> None:
    """GIVEN a domain handler that fails on one particular event (a bug, or data the DB refuses)
    WHEN that event arrives in a batch with good ones THEN the good ones are stored, the bad one
    is dead-lettered as store_failed with its original bytes, and the hub keeps going."""
    from server.ingest import handlers
    from szconfig.roles import EVERYWHERE

    def fragile(_session, events, _now, _kept):
        if any(isinstance(e.data, SurveyData) and e.data.score == 1 for e in events):
            raise RuntimeError("cannot handle a score of 1")
        return []

    monkeypatch.setattr(handlers, "HANDLERS", [*handlers.HANDLERS, handlers.Step(fragile, EVERYWHERE)])
    _engine, factory = migrated
    def survey(score: int) -> bytes:
        return encode(envelope(SurveyMessage, branch="b001", device="k7", seq=1, data=SurveyData(score=score)))

    poison = survey(1)
    fine = [survey(5) for _ in range(5)]
    topic = "sz/v1/b001/dev/k7/evt/survey"
    with HubThread(mosquitto.url, factory):
        _publish_raw(mosquitto.url, [(topic, p) for p in [*fine[:2], poison, *fine[2:]]])
        wait_until(lambda: stored(factory, "dead_letters") >= 1, timeout=20, message="the poison dead-lettered")
        wait_until(lambda: stored(factory) >= 5, timeout=20, message="the good events")
        result = simulate(mosquitto.url, count=1, events=20)
        wait_until(lambda: stored(factory) >= 5 + result.published, timeout=30, message="later traffic")
    with factory() as s:
        d = s.scalar(select(DeadLetter))
        assert d.reason == "store_failed" and d.payload == poison and "cannot handle" in d.detail


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # what it tests
def test_a_hub_whose_database_thread_dies_stops_and_acknowledges_nothing(mosquitto, migrated,
                                                                          monkeypatch) -> None:
    """GIVEN a hub whose database thread fails outside any batch's error handling (a bug)
    WHEN surveys arrive THEN the hub stops instead of sitting silent, acknowledges none of them, and the
    next hub with the same session stores every one exactly once."""
    from device_hub.ingest.hub import Hub

    _engine, factory = migrated
    items = [("sz/v1/b001/dev/k7/evt/survey",
              encode(envelope(SurveyMessage, branch="b001", device="k7", seq=i, data=SurveyData(score=5))))
             for i in range(1, 6)]

    def broken(*_a, **_k):
        raise SystemExit("simulated failure of the database thread")

    hub = HubThread(mosquitto.url, factory, client_id="sz-hub-dies")
    with monkeypatch.context() as m:
        m.setattr(Hub, "_store_messages", broken)
        hub.start()
        _publish_raw(mosquitto.url, items)
        wait_until(lambda: not hub.thread.is_alive(), timeout=20, message="the hub to stop")
    assert stored(factory) == 0
    with HubThread(mosquitto.url, factory, client_id="sz-hub-dies"):
        wait_until(lambda: stored(factory) >= 5, timeout=20, message="the redelivered surveys")
    assert stored(factory) == 5
