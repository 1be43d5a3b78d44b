"""Appointments and opening hours on both databases: booking with capacity, check-in validation, no-shows,
and tickets refused outside the branch's hours (time injected, never the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.appointments import scheduled, service
from server.appointments.models import Appointment, AppointmentStatus
from server.branches.service import sync_branches
from server.customers.importer import CustomerRow
from server.customers.models import Identity
from server.customers.service import upsert_customer
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.queueing import issuing
from server.queueing.flows import issue_ticket_requests
from server.queueing.issuing import BranchClosed
from szconfig import load_branches
from tests.open_hours import REAL_CONFIGS

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai
SLOT = MON + timedelta(hours=1)  # 10:00 local, a slot start (slots every 30 min)
CARD = "c" * 64


def _book(s, n: int = 1, **kw) -> list[Appointment]:
    args = {"branch_id": "b001", "business": "wealth", "slot_at": SLOT, "now": MON, "actor": "staff:1",
            "phone_last4": "1234"} | kw
    return [service.book(s, **args) for _ in range(n)]


def _kiosk(s, now: datetime, **fields) -> issuing.Issued | DomainError:
    results, _ = issuing.issue_many(s, [issuing.TicketRequest("b001", fields.pop("business", "deposit"),
                                                              source="kiosk", **fields)], now)
    return results[0]


def test_booking_takes_capacity_per_slot_and_refuses_bad_slots(migrated) -> None:
    """GIVEN b001 (wealth and loan bookable, two places per 30-minute slot) WHEN staff book THEN two places are
    taken and a third is refused as slot_full; a slot that is not a slot start, in the past, beyond the horizon,
    of a business without appointments, on a holiday, or for nobody is refused with its own code."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        a, b = _book(s, 2)
        assert a.code != b.code and len(a.code) == 6 and a.status is AppointmentStatus.BOOKED
        with pytest.raises(Conflict) as full:
            _book(s)
        assert full.value.code == "slot_full"
        assert _book(s, business="loan")[0].business == "loan"  # capacity is per business
        for kw, code in (({"slot_at": SLOT + timedelta(minutes=10)}, "not_a_slot"),
                         ({"slot_at": MON - timedelta(hours=1)}, "slot_past"),
                         ({"slot_at": SLOT + timedelta(days=30)}, "beyond_horizon"),
                         ({"business": "deposit"}, "unknown_business"),
                         ({"phone_last4": None}, "customer_required")):
            with pytest.raises((Conflict, Invalid)) as err:
                _book(s, **kw)
            assert err.value.code == code, kw
        with pytest.raises(NotFound):
            _book(s, customer_ref="c-0000000000000000")
        sync_branches(s, {"b001": load_branches(REAL_CONFIGS / "branches")["b001"]})  # with its holidays
        with pytest.raises(Conflict) as holiday:
            _book(s, slot_at=datetime(2027, 1, 1, 2, 0, tzinfo=UTC), now=datetime(2026, 12, 25, tzinfo=UTC))
        assert holiday.value.code == "closed_day" and "New Year" in holiday.value.message


def test_check_in_by_code_validates_and_gives_the_appointment_time(migrated) -> None:
    """GIVEN a booking for 10:00 (check-in from 09:30 to 10:15) WHEN kiosks check in THEN an invented code is
    refused (appointment_unknown), 09:00 is early, 09:40 gets a ticket for the booked business with
    appointment_at (priority), the same code again is used, and another booking at 10:20 is expired."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        a, late = _book(s, 2)
        code = a.code
    with factory() as s, s.begin():
        invented = _kiosk(s, MON + timedelta(minutes=40), appointment_code="ZZZZ99", business="wealth")
        assert isinstance(invented, DomainError) and invented.code == "appointment_unknown"
        early = _kiosk(s, MON, appointment_code=code, business="wealth")
        assert isinstance(early, DomainError) and early.code == "appointment_early"
        ok = _kiosk(s, MON + timedelta(minutes=40), appointment_code=code, business="deposit", request_id="r1")
        assert isinstance(ok, issuing.Issued)
        t = ok.ticket
        assert (t.business, t.appointment_code, t.appointment_at, t.priority) == ("wealth", code, SLOT, "priority")
        again = _kiosk(s, MON + timedelta(minutes=41), appointment_code=code, business="wealth")
        assert isinstance(again, DomainError) and again.code == "appointment_used"
        expired = _kiosk(s, SLOT + timedelta(minutes=20), appointment_code=late.code, business="wealth")
        assert isinstance(expired, DomainError) and expired.code == "appointment_expired"
        row = s.scalar(select(Appointment).where(Appointment.code == code))
        assert row.status is AppointmentStatus.CHECKED_IN and row.ticket_id == t.id


def test_two_requests_for_one_code_in_a_batch_get_one_ticket(migrated) -> None:
    """GIVEN one booking WHEN two kiosks send its code in the same hub batch THEN one ticket; the other is
    refused as used. A provisional (already printed) ticket with an invented code is issued without priority."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        code = _book(s)[0].code
    now = MON + timedelta(minutes=50)
    with factory() as s, s.begin():
        reqs = [issuing.TicketRequest("b001", "wealth", source="kiosk", request_id=f"r{i}", appointment_code=code)
                for i in range(2)]
        reqs.append(issuing.TicketRequest("b001", "wealth", source="kiosk", request_id="r3",
                                          appointment_code="FAKE42", provisional_number="K1-001"))
        results, _ = issuing.issue_many(s, reqs, now)
        assert isinstance(results[0], issuing.Issued) and results[0].ticket.appointment_code == code
        assert isinstance(results[1], DomainError) and results[1].code == "appointment_used"
        assert isinstance(results[2], issuing.Issued)
        assert results[2].ticket.appointment_code is None and results[2].ticket.priority == "regular"


def test_check_in_by_phone_last_four_needs_the_customers_card(migrated) -> None:
    """GIVEN a customer (phone ending 6789, a card) booked by ref WHEN a kiosk sends the phone's last four with
    that card THEN the ticket carries the appointment; with a stranger's card or none, appointment_unknown."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        row = CustomerRow(ref="c-00000000000000ab", masked_name="张*", phone_masked="138****6789",
                          phone_last4="6789", id_masked=None, tier="regular", aum_band=None, language="zh-CN",
                          birth_date=None, identities=())
        c, _ = upsert_customer(s, row, branch_id="b001", now=MON)
        s.add(Identity(customer_id=c.id, kind="card", hash=CARD, masked="6222****1234"))
        s.flush()
        a = _book(s, customer_ref=c.ref, phone_last4=None)[0]
        assert a.phone_last4 == "6789"
    now = MON + timedelta(minutes=45)
    with factory() as s, s.begin():
        stranger = _kiosk(s, now, phone_last4="6789", customer_ref="d" * 64, business="wealth")
        assert isinstance(stranger, DomainError) and stranger.code == "appointment_unknown"
        ok = _kiosk(s, now, phone_last4="6789", customer_ref=CARD, business="wealth")
        assert isinstance(ok, issuing.Issued) and ok.ticket.appointment_at == SLOT


def test_no_shows_are_marked_after_the_late_window(migrated) -> None:
    """GIVEN two bookings at 10:00, one checked in WHEN the no-show job runs at 10:10 and at 10:20 THEN nothing
    changes at 10:10; at 10:20 the other is a no-show, counted for the day."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        a, _b = _book(s, 2)
    with factory() as s, s.begin():
        assert isinstance(_kiosk(s, SLOT, appointment_code=a.code, business="wealth"), issuing.Issued)
    assert scheduled.mark_no_shows(factory, SLOT + timedelta(minutes=10)) == 0
    assert scheduled.mark_no_shows(factory, SLOT + timedelta(minutes=20)) == 1
    with factory() as s:
        counts = service.counts(s, branch_id="b001", start=MON, end=MON + timedelta(days=1))
    assert (counts["checked_in"], counts["no_show"], counts["booked"]) == (1, 1, 0)


def test_tickets_are_refused_outside_opening_hours(migrated) -> None:
    """GIVEN b001's real hours (Mon 08:30-17:00, last ticket 16:45, New Year's Day a holiday) WHEN a kiosk or the
    desk asks at 07:00, 16:50 and on the holiday THEN closed with the next opening, issuing_stopped, closed; the
    hub's reply carries the code and opens_at; a provisional ticket printed meanwhile is still kept."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        sync_branches(s, {"b001": load_branches(REAL_CONFIGS / "branches")["b001"]})
    seven = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # Monday 07:00 local
    with factory() as s, s.begin():
        with pytest.raises(BranchClosed) as closed:
            issuing.issue(s, branch_id="b001", business="card", now=seven)
        assert closed.value.code == "closed" and closed.value.opens_at == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
        with pytest.raises(BranchClosed) as stopped:
            issuing.issue(s, branch_id="b001", business="card", now=datetime(2026, 11, 30, 8, 50, tzinfo=UTC))
        assert stopped.value.code == "issuing_stopped"
        with pytest.raises(BranchClosed) as holiday:
            issuing.issue(s, branch_id="b001", business="card", now=datetime(2027, 1, 1, 3, 0, tzinfo=UTC))
        assert "New Year" in holiday.value.message
        kept = issuing.issue(s, branch_id="b001", business="card", now=seven, request_id="p1",
                             provisional_number="K1-009")
        assert kept.ticket.display == "K1-009"
        assert isinstance(issuing.issue(s, branch_id="b001", business="card", now=MON), issuing.Issued)
    from server.ingest.kept import Kept
    from server.ingest.records import EventRecord
    from wire.messages import TicketRequestData

    with factory() as s, s.begin():
        e = EventRecord(id="00000000-0000-4000-8000-000000000001", branch="b001", device="k1", seq=1,
                        type="ticket_request", ts=seven,
                        data=TicketRequestData(request_id="req-night", business="card"))
        rows = issue_ticket_requests(s, [e], seven, Kept())
        reply = rows[0].data
        assert reply.refused.code == "closed" and reply.refused.opens_at == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
