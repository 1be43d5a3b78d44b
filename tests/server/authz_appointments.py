"""Authorisation cases of the appointment routes (merged into test_authz_matrix), and the bookings they touch.

Booking the same slot for every role fills it: 409 (slot_full) counts as allowed, as does cancelling twice.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.appointments.models import Appointment, AppointmentStatus
from server.db import utcnow
from tests.server.test_authz_matrix import Case, Req, fixed

OWN, OTHER = "b001", "b002"


def _slot() -> str:
    """Tomorrow 10:00 in the branches' time zone: a slot start of the tests' around-the-clock b001."""
    tz = ZoneInfo("Asia/Shanghai")
    return datetime.combine(utcnow().astimezone(tz).date() + timedelta(days=1), time(10), tz).isoformat()


def _book(branch: str):
    return lambda ctx, role: Req(f"/api/branches/{branch}/appointments",
                                 json={"business": "wealth", "slot_at": _slot(), "phone_last4": "1234"})


CASES: dict[tuple[str, str], Any] = {
    ("GET", "/api/branches/{branch_id}/appointments"): Case(
        fixed(f"/api/branches/{OWN}/appointments"), other=fixed(f"/api/branches/{OTHER}/appointments")),
    ("POST", "/api/branches/{branch_id}/appointments"): Case(
        _book(OWN), (201, 409), other=_book(OTHER), admin=(201, 409, 422),
        notes="b002 books no wealth appointments: the admin, who sees it, gets 422 unknown_business"),
    ("POST", "/api/appointments/{appointment_id}/cancel"): Case(
        fixed("/api/appointments/{own_appointment}/cancel"), (200, 409),
        other=fixed("/api/appointments/{other_appointment}/cancel")),
    ("GET", "/appointments"): Case(fixed("/appointments"), (303,)),
    ("GET", "/branches/{branch_id}/appointments"): Case(
        fixed(f"/branches/{OWN}/appointments"), other=fixed(f"/branches/{OTHER}/appointments")),
}


def appointment_fixtures(factory) -> dict[str, int]:
    """One booking in b001 and one in b002: {"own_appointment": id, "other_appointment": id}."""
    now = utcnow()
    with factory() as s, s.begin():
        rows = [Appointment(branch_id=b, code=code, business="wealth" if b == OWN else "card",
                            slot_at=now + timedelta(days=1), phone_last4="1234", status=AppointmentStatus.BOOKED,
                            created_at=now, created_by="test", updated_at=now)
                for b, code in ((OWN, "AUTHZ1"), (OTHER, "AUTHZ2"))]
        s.add_all(rows)
        s.flush()
        return {"own_appointment": rows[0].id, "other_appointment": rows[1].id}


FIXTURES = [appointment_fixtures]
