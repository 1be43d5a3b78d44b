"""Appointments: a customer's booked slot for a business at a branch, checked in at a kiosk for a ticket."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"  # a kiosk issued its ticket (ticket_id)
    NO_SHOW = "no_show"  # not checked in by the end of its window (the no-show job)
    CANCELLED = "cancelled"


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("branch_id", "code", name="uq_appointments_code"),
        Index("ix_appointments_slot", "branch_id", "business", "slot_at"),
        Index("ix_appointments_status", "status", "slot_at"),
        Index("ix_appointments_phone", "branch_id", "phone_last4"),
        UniqueConstraint("uid", name="uq_appointments_uid"),
        # what still has to go to the other site: few rows, found without reading the whole table
        Index("ix_appointments_unsynced", "updated_at", postgresql_where=text("rev > synced_rev"),
              sqlite_where=text("rev > synced_rev")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"))
    code: Mapped[str] = mapped_column(String(12))  # what the customer types or shows as a QR code
    business: Mapped[str] = mapped_column(String(32))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the slot's start
    customer_ref: Mapped[str | None] = mapped_column(String(20))  # pseudonymous c-…, when booked for a customer
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[AppointmentStatus] = mapped_column(state_type(AppointmentStatus, 12))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the same booking at the centre and at its branch's edge (each site numbers `id` on its own)
    uid: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    rev: Mapped[int] = mapped_column(Integer, default=1)  # +1 with every change made on this site
    synced_rev: Mapped[int] = mapped_column(Integer, default=0)  # the rev the other site has (sent or came from it)
