"""Referral leads: who referred whom to which customer manager, and what came of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class LeadStatus(StrEnum):
    CREATED = "created"
    ACCEPTED = "accepted"
    MET = "met"
    CONVERTED = "converted"
    DECLINED = "declined"
    EXPIRED = "expired"


OPEN = (LeadStatus.CREATED, LeadStatus.ACCEPTED, LeadStatus.MET)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_branch_status", "branch_id", "status", "created_at"),
        Index("ix_referrals_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # one lead (one credit) per customer visit: "<customer id or ->:<visit id or local day>"
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    visit_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    business: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    referrer: Mapped[str] = mapped_column(String(80))  # staff:<id> or rule:<reason>
    referrer_staff_id: Mapped[int | None] = mapped_column(Integer)
    assigned_to: Mapped[int | None] = mapped_column(Integer)  # the customer manager (staff id)
    status: Mapped[LeadStatus] = mapped_column(state_type(LeadStatus, 12), default=LeadStatus.CREATED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_to: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
