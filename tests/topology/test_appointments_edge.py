"""Appointments in the edge topology: booked at the centre (or at the branch's lobby), checked in at the edge's
kiosk with or without the link, and the outcome back at the centre exactly once.

The sites are real databases (the edge on SQLite, the centre on SQLite and PostgreSQL); pushes and events are
handed over through their wire models as the relay, the bridge and the hubs would, repeated and out of order.
The whole path through brokers, with the link cut, is `test_check_in_with_the_link_cut_reaches_the_centre_once`.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from device_hub.ingest.classify import classify
from server.appointments import service as appointments
from server.appointments.models import Appointment, AppointmentStatus
from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.privacy import keyed_hash
from server.customers.service import upsert_customer
from server.db import utcnow
from server.events.models import Event
from server.ingest.records import EventRecord
from server.ingest.service import run_deferred, store_batch
from server.link import push
from server.link import service as link
from server.outbox.models import OutboxMessage
from server.queueing.models import Ticket
from smartzone.cli.compose import open_database
from szconfig.roles import Role
from tests.support import wait_until
from tests.topology.kit import BRANCHES, central_hub, edge_hub, start_centre, start_edge
from wire import ALL_DEVICE_TYPES, encode, envelope
from wire.messages import PushData

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai (the test configs are open all day)
SLOT = MON + timedelta(hours=1)  # a slot start: check-in from 30 min before until 15 min after
CARD = "6222020200112233"
KEY = "k" * 8


@pytest.fixture
def sites(tmp_path, db_url):
    _ce, centre = open_database(db_url, BRANCHES)
    _ee, edge = open_database(f"sqlite:///{tmp_path / 'edge-b001.db'}", {"b001": BRANCHES["b001"]})
    return centre, edge


def _down(centre, edge, now: datetime, branch: str = "b001") -> int:
    """The centre's push job, and its pushes applied at the edge as the relay and the edge's link would."""
    push.push_down(centre, now)
    with centre() as s, s.begin():
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "push", OutboxMessage.sent_at.is_(None))
                         .order_by(OutboxMessage.id)).all()
        for r in rows:
            r.sent_at = now
        items = [PushData.model_validate(r.data) for r in rows if r.branch_id == branch]
    n = 0
    for item in items + items[::2]:  # some twice: the bridge redelivers
        with edge() as s, s.begin():
            n += push.apply(s, branch=branch, kind=item.kind, key=item.key, version=item.version, data=item.data)
    return n


def _up(edge, centre, now: datetime, seed: int = 15) -> list[EventRecord]:
    """The edge's deferred work, then its uplink stored at the centre through the wire and the hub's classifier,
    in shuffled batches, half of them twice; the events the centre confirmed leave the edge."""
    with edge() as s, s.begin():
        run_deferred(s, now=now, role=Role.EDGE)
    with edge() as s:
        events = [e for _k, e in link.pending(s, after=0, limit=10_000)]
    received = [classify(f"sz/v1/b001/up/{e.device}/evt/{e.type}",
                         encode(envelope(ALL_DEVICE_TYPES[e.type], id=e.id, ts=e.ts, branch=e.branch,
                                         device=e.device, seq=e.seq, data=e.data)),
                         branches=set(BRANCHES), now=now) for e in events]
    assert all(isinstance(r, EventRecord) for r in received), received
    batches = [received[i:i + 2] for i in range(0, len(received), 2)]
    random.Random(seed).shuffle(batches)
    for batch in batches + batches[::2]:
        with centre() as s, s.begin():
            store_batch(s, batch, now=now, role=Role.CENTRAL)
    with edge() as s, s.begin():
        link.confirmed(s, [e.id for e in events], now, "b001")
    return events


def _kiosk(edge, now: datetime, n: int, **fields) -> None:
    """A kiosk's ticket request, stored by the edge's hub (role edge: its own database, no link needed)."""
    e = EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=n, type="ticket_request", ts=now,
                       data={"request_id": f"req-appt-{n:04d}", "business": "wealth", **fields})
    with edge() as s, s.begin():
        store_batch(s, [e], now=now, role=Role.EDGE)


def _status(factory, code: str) -> AppointmentStatus | None:
    with factory() as s:
        return s.scalar(select(Appointment.status).where(Appointment.code == code))


def _by_code(factory) -> dict[str, Appointment]:
    with factory() as s:
        return {a.code: a for a in s.scalars(select(Appointment))}


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_bookings_travel_both_ways_and_outcomes_come_up_once(sites) -> None:
    """GIVEN at the centre three bookings at b001 for 10:00 (a code, a phone's last four for a card holder whose
    hint was pushed, one cancelled) WHEN the push job runs THEN b001's edge holds them (the cancelled one as
    cancelled); WHEN at 09:40 the edge's kiosk checks in by code and by phone + card, the cancelled code is
    refused, and the edge's lobby books one more THEN after the uplink is stored at the centre (shuffled,
    repeated) the centre shows both checked in with the mirrored tickets, the lobby's booking with its edge
    code, each change stored once; nothing goes back down, and a second uplink sends nothing."""
    centre, edge = sites
    with centre() as s, s.begin():
        row = {**demo_rows()[0], "customer_id": "C-112233", "name": "王小明", "phone": "13800001234",
               "card_number": CARD, "tier": "gold", "aum_band": "", "birth_date": ""}
        customer, _ = upsert_customer(s, parse_row(row, [KEY], KEY), branch_id="b001", now=MON)
        by_code = appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON, actor="staff:9",
                                    phone_last4="5678")
        by_phone = appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON,
                                     actor="staff:9", customer_ref=customer.ref)
        cancelled = appointments.book(s, branch_id="b001", business="loan", slot_at=SLOT, now=MON, actor="staff:9",
                                      phone_last4="4321")
        codes = by_code.code, by_phone.code, cancelled.code
    with centre() as s, s.begin():
        appointments.cancel(s, appointment=s.scalar(select(Appointment).where(Appointment.code == codes[2])),
                            now=MON + timedelta(minutes=1))
    assert all(c[0].isalpha() for c in codes)  # the centre's half of the codes
    assert _down(centre, edge, MON + timedelta(minutes=2)) >= 4
    at_edge = _by_code(edge)
    assert {c: at_edge[c].status for c in codes} == {codes[0]: "booked", codes[1]: "booked", codes[2]: "cancelled"}
    assert at_edge[codes[1]].phone_last4 == "1234" and at_edge[codes[1]].rev == at_edge[codes[1]].synced_rev

    checkin = SLOT - timedelta(minutes=20)
    _kiosk(edge, checkin, 1, appointment_code=codes[0])
    _kiosk(edge, checkin, 2, phone_last4="1234", customer_ref=keyed_hash(CARD, KEY))
    _kiosk(edge, checkin, 3, appointment_code=codes[2])
    with edge() as s, s.begin():
        lobby = appointments.book(s, branch_id="b001", business="loan", slot_at=SLOT + timedelta(minutes=30),
                                  now=checkin, actor="staff:3", phone_last4="9999", site="edge")
        lobby_code = lobby.code
    with edge() as s:
        tickets = {t.appointment_code: t for t in s.scalars(select(Ticket))}
    assert set(tickets) == {codes[0], codes[1]}  # the cancelled code got no ticket
    assert lobby_code[0].isdigit()  # the edge's half: never the same as a code the centre drew

    events = _up(edge, centre, checkin + timedelta(seconds=1))
    assert sorted(e.type for e in events if e.type == "appointment") == ["appointment"] * 3
    at_centre = _by_code(centre)
    assert at_centre[codes[0]].status == at_centre[codes[1]].status == AppointmentStatus.CHECKED_IN
    assert at_centre[codes[2]].status == AppointmentStatus.CANCELLED
    assert at_centre[lobby_code].status == AppointmentStatus.BOOKED and at_centre[lobby_code].created_by == "staff:3"
    with centre() as s:
        for code in codes[:2]:
            t = s.get(Ticket, at_centre[code].ticket_id)
            assert t is not None and t.appointment_code == code and t.mirror_step is not None
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "appointment")) == 3
        assert s.scalar(select(func.count()).select_from(Appointment)) == 4
    assert push.push_down(centre, checkin + timedelta(minutes=1))["appointment"] == 0  # nothing echoes back
    assert _up(edge, centre, checkin + timedelta(minutes=1)) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_crossed_changes_settle_on_the_outcome(sites) -> None:
    """GIVEN two bookings pushed to b001's edge WHEN, with the link down, the centre cancels the first while the
    edge checks it in, and the edge's no-show job marks the second while the centre cancels it too THEN once
    both directions are delivered (in either order) both sites agree: checked in, and no-show."""
    centre, edge = sites
    with centre() as s, s.begin():
        a, b = (appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON, actor="staff:9",
                                  phone_last4=p) for p in ("1111", "2222"))
        codes = a.code, b.code
    _down(centre, edge, MON)
    with centre() as s, s.begin():
        for a in s.scalars(select(Appointment)):
            appointments.cancel(s, appointment=a, now=MON + timedelta(minutes=5))
    _kiosk(edge, SLOT - timedelta(minutes=10), 1, appointment_code=codes[0])
    with edge() as s, s.begin():
        assert appointments.mark_no_shows(s, now=SLOT + timedelta(minutes=20),
                                          cfgs={"b001": BRANCHES["b001"]}) == 1
    _down(centre, edge, SLOT + timedelta(minutes=21))
    _up(edge, centre, SLOT + timedelta(minutes=22))
    for site in (centre, edge):
        assert _status(site, codes[0]) == AppointmentStatus.CHECKED_IN
        assert _status(site, codes[1]) == AppointmentStatus.NO_SHOW
    assert push.push_down(centre, SLOT + timedelta(minutes=30))["appointment"] == 0


def test_a_device_cannot_pass_off_an_appointment_change() -> None:
    """GIVEN an `appointment` event on a kiosk's topic, or up under a kiosk's name WHEN the hub classifies it THEN
    it is dead-lettered: only the edge itself (device `hub`) sends appointment changes, up."""
    from wire.messages import AppointmentData, AppointmentMessage

    data = AppointmentData(uid=str(uuid.uuid4()), code="KX7M2Q", business="wealth", slot_at=SLOT,
                           status="checked_in", created_at=MON, created_by="staff:9", updated_at=MON, rev=2)
    for topic, device in (("sz/v1/b001/dev/k1/evt/appointment", "k1"), ("sz/v1/b001/up/k1/evt/appointment", "k1"),
                          ("sz/v1/b001/up/hub/evt/appointment", "hub")):
        r = classify(topic, encode(envelope(AppointmentMessage, branch="b001", device=device, seq=2, ts=MON,
                                            data=data)), branches={"b001"}, now=MON)
        assert isinstance(r, EventRecord) == (device == "hub"), topic


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bad_appointment_push_changes_nothing(sites) -> None:
    """GIVEN b001's edge WHEN a push of kind appointment comes under another uid's key, or malformed THEN it is
    refused (ValueError, as for a bad config) and the edge holds no appointment."""
    centre, edge = sites
    with centre() as s, s.begin():
        a = appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON, actor="staff:9",
                              phone_last4="1111")
        from server.appointments import sync

        good = sync.state(s, a).model_dump(mode="json")
    for key, data in ((str(uuid.uuid4()), good), (good["uid"], {**good, "code": "not a code"})):
        with pytest.raises(ValueError), edge() as s, s.begin():
            push.apply(s, branch="b001", kind="appointment", key=key, version=5, data=data)
    with edge() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0


def test_check_in_with_the_link_cut_reaches_the_centre_once(tmp_path) -> None:
    """GIVEN b001's edge bridged to the centre, each with its hub WHEN a booking made at the centre is pushed
    down, then the link is cut and the edge's kiosk checks in with its code THEN the ticket is issued at the
    edge and the centre still shows it booked; once the link returns the centre shows it checked in, from one
    stored event, with its mirrored ticket."""
    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}", branches=("b001",))
    edge = start_edge(tmp_path, centre, "b001")
    hubs = [central_hub(centre), edge_hub(edge)]
    now = utcnow()
    slot = _next_slot(now)  # its check-in window is open now: the events carry the real time the hubs check
    try:
        for h in hubs:
            h.start()
        with centre.factory() as s, s.begin():
            code = appointments.book(s, branch_id="b001", business="wealth", slot_at=slot, now=now,
                                     actor="staff:9", phone_last4="5678").code
        push.push_down(centre.factory, utcnow())
        wait_until(lambda: _status(edge.factory, code) == AppointmentStatus.BOOKED, timeout=30,
                   message="the booking at the edge")
        edge.plug.pull()
        _kiosk(edge.factory, utcnow(), 1, appointment_code=code)
        assert _status(edge.factory, code) == AppointmentStatus.CHECKED_IN
        with edge.factory() as s:
            assert s.scalar(select(Ticket.appointment_code)) == code
        wait_until(lambda: _queued(edge.factory, "appointment") == 1, timeout=10,
                   message="the check-in waits in the edge's uplink")
        assert _status(centre.factory, code) == AppointmentStatus.BOOKED
        edge.plug.restore()
        wait_until(lambda: _status(centre.factory, code) == AppointmentStatus.CHECKED_IN, timeout=30,
                   message="the check-in at the centre")
        wait_until(lambda: _queued(edge.factory, "appointment") == 0, timeout=30, message="the centre confirmed")
        with centre.factory() as s:
            assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "appointment")) == 1
        wait_until(lambda: _ticket_of(centre.factory, code) is not None, timeout=30,
                   message="the mirrored ticket named")
    finally:
        for h in reversed(hubs):
            h.stop()
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()


def _queued(factory, kind: str) -> int:
    from server.link.models import UplinkItem

    with factory() as s:
        return s.scalar(select(func.count()).select_from(UplinkItem).join(Event, Event.id == UplinkItem.event_id)
                        .where(Event.type == kind))


def _ticket_of(factory, code: str) -> int | None:
    with factory() as s:
        return s.scalar(select(Appointment.ticket_id).where(Appointment.code == code))


def _next_slot(now: datetime) -> datetime:
    """The next 30-minute slot start after `now` (the test configs are open all day): bookable at any hour."""
    slot = now.replace(minute=30 if now.minute < 30 else 0, second=0, microsecond=0)
    return slot + timedelta(hours=0 if now.minute < 30 else 1)


def test_head_office_and_the_lobby_book_through_the_api_with_their_own_codes(migrated, db_url) -> None:
    """GIVEN the server in role central and in role edge WHEN an admin at head office and the branch's lobby staff
    book b001's next slot through the API THEN both get a booking (the centre's code starts with a letter, the
    edge's with a digit, each row with a uid); the centre lists the branch's day and shows its page too."""
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.staff.service import create_staff
    from szconfig import ServerSettings
    from tests.server.helpers import PASSWORD, bearer, browser_login

    engine, factory = migrated
    with factory() as s, s.begin():
        create_staff(s, username="ho", role="admin", branch_ids=[], all_branches=True, password=PASSWORD)
        create_staff(s, username="lobby", role="lobby_staff", branch_ids=["b001"], password=PASSWORD)
    body = {"business": "wealth", "slot_at": _next_slot(utcnow()).isoformat(), "phone_last4": "1234"}
    codes = {}
    for role, user in ((Role.CENTRAL, "ho"), (Role.EDGE, "lobby")):
        with TestClient(create_app(ServerSettings(role=role, db=db_url, jobs=False), engine=engine)) as c:
            r = c.post("/api/branches/b001/appointments", json=body, headers=bearer(c, user))
            assert r.status_code == 201, r.text
            codes[role] = r.json()["code"]
            if role is Role.CENTRAL:
                local_day = {"day": datetime.fromisoformat(body["slot_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
                             .date().isoformat()}
                day = c.get("/api/branches/b001/appointments", headers=bearer(c, user), params=local_day)
                assert day.status_code == 200 and len(day.json()["appointments"]) == 1
                page = browser_login(c, "ho").client.get("/branches/b001/appointments", params=local_day)
                assert page.status_code == 200 and codes[role] in page.text
    assert codes[Role.CENTRAL][0].isalpha() and codes[Role.EDGE][0].isdigit()
    with factory() as s:
        assert len(set(s.scalars(select(Appointment.uid)))) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_clashing_change_from_an_edge_is_kept_but_holds_nothing_up(sites) -> None:
    """GIVEN at the centre a booking of b001 with code K2AAAA (drawn before codes had halves) WHEN b001's edge
    sends up another booking under that code, in one batch with a good change THEN the good one is applied, the
    clash changes nothing (it stays in the event log, logged), and the batch commits."""
    from server.appointments import sync

    centre, edge = sites
    with centre() as s, s.begin():
        old = appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON, actor="staff:9",
                                phone_last4="1111")
        old.code = "K2AAAA"
    with edge() as s, s.begin():
        mine = appointments.book(s, branch_id="b001", business="wealth", slot_at=SLOT, now=MON, actor="staff:3",
                                 phone_last4="2222", site="edge")
        clash = sync.state(s, mine).model_copy(update={"uid": str(uuid.uuid4()), "code": "K2AAAA"})
        good = sync.state(s, mine)
    batch = [EventRecord(id=sync.event_id(d), branch="b001", device="hub", seq=d.rev, type="appointment", ts=MON,
                         data=d) for d in (clash, good)]
    with centre() as s, s.begin():
        store_batch(s, batch, now=MON, role=Role.CENTRAL)
    at_centre = _by_code(centre)
    assert at_centre["K2AAAA"].phone_last4 == "1111" and at_centre[good.code].phone_last4 == "2222"
    with centre() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "appointment")) == 2
