"""Appointment jobs: booked appointments past their check-in window become no-shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.appointments.service import mark_no_shows as mark
from server.branches.models import Branch
from server.queueing.locks import branch_configs


def mark_no_shows(factory: sessionmaker[Session], now: datetime) -> int:
    """Every branch's booked appointments whose window closed (slot + late_min) are marked no_show."""
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Branch.id)))
        return mark(session, now=now, cfgs=branch_configs(session, ids))
