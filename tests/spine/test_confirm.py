"""End-to-end acknowledgement: a device forgets an event only when the hub says it is committed."""

import json
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from device_hub.ingest.confirm import confirmations
from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from device_hub.link.outbox import SqliteOutbox
from server.events.models import DeadLetter, Event
from server.ingest.records import DeadLetterRecord, EventRecord
from tests.spine.hubkit import HubThread
from tests.support import wait_until
from wire import TopicKind, decode_hub_message, device_topic, encode, envelope
from wire.messages import SurveyData, SurveyMessage

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def record(device: str, event_id: str | None = None) -> EventRecord:
    return EventRecord(id=event_id or str(uuid.uuid4()), branch="b001", device=device, seq=1, type="survey",
                       ts=NOW, data=SurveyData(score=5))


def test_one_confirmation_per_device_naming_each_event_once() -> None:
    """GIVEN a batch with two kiosks' events, one event twice, an id conflict and two dead letters (one that
    names no id) THEN each kiosk gets one message listing its stored ids once and its rejections with reasons."""
    a1, a2, b1 = record("k1"), record("k1"), record("k2")
    conflict = record("k2")
    skewed = DeadLetterRecord(topic="sz/v1/b001/dev/k1/evt/survey", reason="clock_skew", detail="", payload=b"",
                              size=0, digest="d", event_id=str(uuid.uuid4()), branch="b001", device="k1")
    nameless = DeadLetterRecord(topic="sz/v1/b001/dev/k1/evt/survey", reason="invalid_json", detail="",
                                payload=b"{", size=1, digest="e")
    out = dict(confirmations([a1, a2, a1, b1, conflict, skewed, nameless],
                             {("b001", "k2", conflict.id): "id_conflict"}, seq=iter(range(1, 9)), now=NOW))
    assert set(out) == {device_topic("b001", d, TopicKind.CONFIRM) for d in ("k1", "k2")}
    k1 = decode_hub_message(out["sz/v1/b001/dev/k1/ack"]).data
    k2 = decode_hub_message(out["sz/v1/b001/dev/k2/ack"]).data
    assert [str(i) for i in k1.ids] == [a1.id, a2.id]
    assert [(str(r.id), r.reason) for r in k1.rejected] == [(skewed.event_id, "clock_skew")]
    assert [str(i) for i in k2.ids] == [b1.id]
    assert [(str(r.id), r.reason) for r in k2.rejected] == [(conflict.id, "id_conflict")]


def test_events_stay_on_the_device_until_the_hub_has_committed_them(mosquitto, migrated, tmp_path) -> None:
    """GIVEN a kiosk with a SQLite outbox and a broker, the hub away WHEN it sends 20 events THEN the broker has
    taken them all (a subscriber received them) and still the kiosk keeps every one; WHEN the hub starts
    THEN it stores them and the kiosk's outbox empties, each event counted confirmed once."""
    _engine, factory = migrated
    url = parse_broker_url(mosquitto.url)
    with HubThread(mosquitto.url, factory):
        pass  # the hub's persistent session: the broker queues for it while it is away
    seen: list[str] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher")
    watcher.on_message = lambda _c, _u, m: seen.append(m.topic)
    watcher.connect(url.host, url.port)
    watcher.subscribe("sz/v1/b001/dev/kc1/#", qos=1)
    watcher.loop_start()
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    link = DeviceLink(url, branch="b001", device="kc1", outbox=outbox, track_ids=True).start()
    try:
        wait_until(link.connected.is_set, timeout=10, message="kiosk connected")
        wait_until(lambda: watcher.is_connected(), timeout=10, message="watcher connected")
        for _ in range(20):
            link.send(SurveyMessage, SurveyData(score=4))
        wait_until(lambda: sum(t.endswith("/evt/survey") for t in seen) >= 20, timeout=10,
                   message="the broker delivering the events")
        assert len(outbox) == 21  # the birth and 20 events: the broker's PUBACK deletes nothing
        with HubThread(mosquitto.url, factory):
            wait_until(lambda: len(outbox) == 0, timeout=20, message="the hub's confirmations")
        assert link.confirmed == 21 and sorted(link.confirmed_ids) == sorted(link.sent_ids)
        with factory() as s:
            stored = set(s.scalars(select(Event.id).where(Event.device_id == "kc1")))
        assert stored == set(link.sent_ids)
    finally:
        link.stop(goodbye=False, timeout=1)
        outbox.close()
        watcher.loop_stop()
        watcher.disconnect()


def test_a_rejected_event_is_dropped_by_the_device_and_kept_as_a_dead_letter(mosquitto, migrated) -> None:
    """GIVEN a kiosk whose clock says 2099 WHEN it sends an event THEN the hub dead-letters it as clock_skew and
    tells the kiosk, which drops it from its outbox (sending it again cannot help) and records why."""
    _engine, factory = migrated
    link = DeviceLink(parse_broker_url(mosquitto.url), branch="b001", device="kc2").start()
    try:
        with HubThread(mosquitto.url, factory):
            msg = envelope(SurveyMessage, branch="b001", device="kc2", seq=1, data=SurveyData(score=5),
                           ts=datetime(2099, 1, 1, tzinfo=UTC))
            link.publish(device_topic("b001", "kc2", TopicKind.EVENT, "survey"), encode(msg), msg_id=str(msg.id))
            wait_until(lambda: str(msg.id) in link.rejected, timeout=20, message="the rejection")
            assert link.rejected[str(msg.id)] == "clock_skew"
            wait_until(lambda: len(link.outbox) == 0, timeout=10, message="the outbox emptied")
        with factory() as s:
            letter = s.scalar(select(DeadLetter).where(DeadLetter.reason == "clock_skew"))
            assert json.loads(letter.payload)["id"] == str(msg.id)
            assert s.get(Event, str(msg.id)) is None
    finally:
        link.stop(goodbye=False, timeout=1)


def test_unconfirmed_events_are_sent_again_after_the_time_out(mosquitto, migrated) -> None:
    """GIVEN a hub that stores but does not confirm (confirmations lost) WHEN the kiosk's time-out passes THEN it
    sends the events again, the hub counts them as duplicates (stored once), and once confirmations flow the
    kiosk's outbox empties."""
    _engine, factory = migrated
    link = DeviceLink(parse_broker_url(mosquitto.url), branch="b001", device="kc3", confirm_timeout_s=1).start()
    try:
        with HubThread(mosquitto.url, factory, client_id="mute-hub", confirm=False) as hub:
            for _ in range(5):
                link.send(SurveyMessage, SurveyData(score=3))
            wait_until(lambda: link.resends >= 1 and hub.counters.duplicates >= 5, timeout=20,
                       message="a resend recognised as duplicates")
            assert len(link.outbox) == 6
        with HubThread(mosquitto.url, factory, client_id="mute-hub"):
            wait_until(lambda: len(link.outbox) == 0, timeout=20, message="confirmations")
        with factory() as s:
            assert len(s.scalars(select(Event.id).where(Event.device_id == "kc3", Event.type == "survey")).all()) == 5
    finally:
        link.stop(goodbye=False, timeout=1)
