"""The domain side of ingest, on SQLite and PostgreSQL: once only, whatever is redelivered."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.devices.models import Device
from server.events.service import counts
from server.ingest.records import DeadLetterRecord, EventRecord
from server.ingest.service import run_deferred, store_batch
from server.outbox.models import OutboxMessage
from server.touchpoints.models import Touchpoint, Visit
from wire.messages import SurveyData

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
HASH = "cd" * 32


def ev(type_: str, data: dict, *, seq: int = 1, device: str = "k1", at: int = 0) -> EventRecord:
    return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device=device, seq=seq, type=type_,
                          ts=T0 + timedelta(seconds=at), data=data)


def stay(visit: str) -> list[EventRecord]:
    return [
        ev("state", {"online": True, "session": 5, "model": "SZ-K1", "components": ["printer"]}, seq=0),
        ev("visit", {"visit_id": visit, "phase": "start"}, seq=1, at=1),
        ev("card_read", {"card_kind": "bank", "card_hash": HASH, "masked": "622848******1234",
                         "visit_id": visit}, seq=2, at=2),
        ev("ticket_request", {"request_id": "req-00000001", "business": "deposit", "visit_id": visit},
           seq=3, at=3),
        ev("survey", {"score": 5, "visit_id": visit}, seq=4, at=60),
        ev("visit", {"visit_id": visit, "phase": "end"}, seq=5, at=61),
    ]


def test_batch_is_stored_once_even_when_redelivered(migrated) -> None:
    """GIVEN a customer's stay WHEN the batch is stored twice (a crash before the ack)
    THEN events, touchpoints, the visit and the ticket reply exist exactly once."""
    _engine, factory = migrated
    batch = stay("visit-0001")
    with factory() as s, s.begin():
        first = store_batch(s, batch)
    with factory() as s, s.begin():
        boards = run_deferred(s)
    with factory() as s, s.begin():
        again = store_batch(s, batch)
    with factory() as s, s.begin():
        boards_again = run_deferred(s)
    assert (first.stored, first.duplicates, first.outbound) == (6, 0, 1)  # the reply
    assert (boards, boards_again) == (1, 0)  # the queue board, once: nothing changed since
    assert (again.stored, again.duplicates, again.outbound) == (0, 6, 0)
    with factory() as s:
        c = counts(s)
        assert (c["events"], c["touchpoints"], c["visits"], c["devices"]) == (6, 3, 1, 1)
        visit = s.get(Visit, "visit-0001")
        assert visit.customer_ref == HASH and visit.touchpoints == 3
        assert visit.started_at == T0 + timedelta(seconds=1) and visit.ended_at == T0 + timedelta(seconds=61)
        card_tp = s.scalar(select(Touchpoint).where(Touchpoint.type == "card_read"))
        assert card_tp.detail == {"card_kind": "bank", "masked": "622848******1234"}
        reply = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "ticket_reply"))
        assert (reply.device_id, reply.data["request_id"]) == ("k1", "req-00000001")


def test_duplicates_inside_one_batch(migrated) -> None:
    """GIVEN the same event twice in one batch THEN it is stored once and counted as a duplicate."""
    _engine, factory = migrated
    e = ev("survey", {"score": 3})
    with factory() as s, s.begin():
        r = store_batch(s, [e, e])
    assert (r.stored, r.duplicates) == (1, 1)


def test_birth_registers_device_and_stale_will_is_ignored(migrated) -> None:
    """GIVEN birth (session 5), a reconnect birth (session 6), then the late will of session 5
    THEN the device is registered, online, at session 6: the stale will changes nothing."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        store_batch(s, [ev("state", {"online": True, "session": 5, "model": "SZ-K1", "sw": "1.0"}, seq=0)])
        store_batch(s, [ev("state", {"online": True, "session": 6, "sw": "1.1"}, seq=0, at=10)])
        store_batch(s, [ev("state", {"online": False, "session": 5}, seq=9, at=11)])
    with factory() as s:
        d = s.scalar(select(Device))
        assert (d.online, d.session, d.model, d.sw) == (True, 6, "SZ-K1", "1.1")
        assert d.registered_at == T0
    with factory() as s, s.begin():
        store_batch(s, [ev("state", {"online": False, "session": 6}, seq=3, at=20)])
    with factory() as s:
        assert s.scalar(select(Device.online)) is False


def test_status_and_seq_gaps(migrated) -> None:
    """GIVEN status changes and a jump in seq THEN the component status is current and the gap counted."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        store_batch(s, [
            ev("state", {"online": True, "session": 1}, seq=0),
            ev("status", {"component": "printer", "device": "online", "paper": "low"}, seq=1, at=1),
            ev("status", {"component": "printer", "device": "userError", "paper": "out"}, seq=5, at=2),
        ])
    with factory() as s:
        d = s.scalar(select(Device))
        assert d.status["printer"]["paper"] == "out" and d.status["printer"]["device"] == "userError"
        assert d.seq_gaps == 3 and d.last_seq == 5


def test_a_late_birth_of_the_same_session_keeps_the_sequence(migrated) -> None:
    """GIVEN a device's events 1..6, then its own birth (same session) arriving late, as a bridge may redeliver it
    THEN the fleet keeps last_seq 6 and counts no gap; a new session's birth still starts a new sequence."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        store_batch(s, [ev("state", {"online": True, "session": 3}, seq=0)])
        store_batch(s, [ev("survey", {"score": 4}, seq=n, at=n) for n in range(1, 7)])
        store_batch(s, [ev("state", {"online": True, "session": 3}, seq=0, at=1)])
    with factory() as s:
        assert s.execute(select(Device.last_seq, Device.seq_gaps)).one() == (6, 0)
    with factory() as s, s.begin():
        store_batch(s, [ev("state", {"online": True, "session": 4}, seq=0, at=30),
                        ev("survey", {"score": 5}, seq=1, at=31)])
    with factory() as s:
        assert s.execute(select(Device.last_seq, Device.seq_gaps)).one() == (1, 0)


def test_heartbeats_update_presence_without_filling_the_log(migrated) -> None:
    """GIVEN only heartbeats THEN the device is seen and online but the event log stays empty."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        r = store_batch(s, [ev("heartbeat", {"uptime_s": 30}, device="k2", at=30)])
    assert (r.stored, r.heartbeats) == (0, 1)
    with factory() as s:
        d = s.scalar(select(Device))
        assert d.device_id == "k2" and d.online and d.last_seen_at == T0 + timedelta(seconds=30)
        assert counts(s)["events"] == 0


def test_dead_letters_are_kept_once(migrated) -> None:
    """GIVEN the same dead letter delivered twice THEN one row keeps its reason and bytes."""
    _engine, factory = migrated
    d = DeadLetterRecord(topic="sz/v1/b001/dev/k1/evt/survey", reason="invalid_json", detail="bad",
                         payload=b"{", size=1, digest="0" * 64)
    with factory() as s, s.begin():
        store_batch(s, [], [d])
    with factory() as s, s.begin():
        store_batch(s, [], [d])
    with factory() as s:
        assert counts(s)["dead_letters"] == 1


def test_quiet_devices_count_gaps_and_presence(migrated) -> None:
    """GIVEN a registered, online device WHEN later batches bring only business events and heartbeats,
    with seq 3 and 4 missing THEN last-seen follows the newest message and the two missing are counted."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        store_batch(s, [ev("state", {"online": True, "session": 1}, seq=0),
                        ev("survey", {"score": 4}, seq=1, at=1)])
    with factory() as s, s.begin():
        store_batch(s, [ev("survey", {"score": 5}, seq=2, at=2), ev("survey", {"score": 3}, seq=5, at=3),
                        ev("heartbeat", {"uptime_s": 30}, seq=5, at=40)])
    with factory() as s, s.begin():
        store_batch(s, [ev("survey", {"score": 2}, seq=6, at=50)])
    with factory() as s:
        d = s.scalar(select(Device))
        assert (d.last_seq, d.seq_gaps, d.online) == (6, 2, True)
        assert d.last_seen_at == T0 + timedelta(seconds=50)


def test_an_id_reused_for_a_different_event_is_an_id_conflict(migrated) -> None:
    """GIVEN a stored survey WHEN another message arrives with its id but a different score (later, and once
    within one batch) THEN the stored event is unchanged, each imposter is dead-lettered as id_conflict with
    its own bytes, and the batch names it as rejected so its device stops sending it."""
    from dataclasses import replace

    from server.events.models import DeadLetter, Event

    _engine, factory = migrated
    e = replace(ev("survey", {"score": 3}), topic="sz/v1/b001/dev/k1/evt/survey", payload=b'{"score":3}')
    imposter = replace(e, data=SurveyData(score=1), payload=b'{"score":1}')
    twin = replace(e, id=str(uuid.uuid4()))
    twin_imposter = replace(twin, data=SurveyData(score=2), payload=b'{"score":2}')
    with factory() as s, s.begin():
        first = store_batch(s, [e, twin, twin_imposter])
    with factory() as s, s.begin():
        later = store_batch(s, [imposter, e])
    assert (first.stored, first.duplicates, first.dead_lettered) == (2, 0, 1)
    assert first.rejected == {("b001", "k1", twin.id): "id_conflict"}
    assert (later.stored, later.duplicates, later.dead_lettered) == (0, 1, 1)  # e itself is a repeat
    assert later.rejected == {("b001", "k1", e.id): "id_conflict"}
    with factory() as s:
        assert s.get(Event, e.id).data == {"score": 3, "tags": []} == s.get(Event, twin.id).data
        letters = s.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
        assert [(d.reason, d.payload) for d in letters] == [("id_conflict", b'{"score":2}'),
                                                            ("id_conflict", b'{"score":1}')]
        assert e.id in letters[1].detail and "survey #1 of b001/k1" in letters[1].detail


def test_a_repeat_is_not_a_conflict(migrated) -> None:
    """GIVEN a stored event WHEN the same event comes again (a resend after a lost confirmation) THEN it is a
    duplicate, not a conflict: timestamps and JSON read back from the database compare equal."""
    _engine, factory = migrated
    e = ev("card_read", {"card_kind": "bank", "card_hash": HASH, "masked": "622848******1234",
                         "visit_id": "visit-0002"}, at=3)
    e = EventRecord(**{**{f: getattr(e, f) for f in ("id", "branch", "device", "seq", "type", "data")},
                       "ts": T0 + timedelta(microseconds=123457)})
    with factory() as s, s.begin():
        store_batch(s, [e])
    with factory() as s, s.begin():
        again = store_batch(s, [e])
    assert (again.duplicates, again.dead_lettered, again.rejected) == (1, 0, {})


def test_state_columns_are_typed_by_their_enums(migrated) -> None:
    """GIVEN every table with a `status` column WHEN a state is read back THEN it is a member of its StrEnum,
    stored as the same plain text as before (no native type, no migration of the data)."""
    from sqlalchemy import Enum, String, text

    from server.db import Base
    from server.queueing.models import Ticket
    from server.queueing.transitions import TicketStatus

    untyped = [t.name for t in Base.metadata.sorted_tables
               if "status" in t.c and isinstance(t.c.status.type, String) and not isinstance(t.c.status.type, Enum)]
    assert untyped == []
    _engine, factory = migrated
    with factory() as s, s.begin():
        store_batch(s, stay("visit-0009"))
    with factory() as s:
        status = s.scalar(select(Ticket.status))
        assert type(status) is TicketStatus and s.scalar(text("SELECT status FROM queue_tickets")) == status.value
