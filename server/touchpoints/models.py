"""Visits (one customer's stay) and the touchpoints (contacts) that make them up."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_branch_started", "branch_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the device's visit_id
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    customer_ref: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    touchpoints: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)  # CRM: the known customer, if any


class Touchpoint(Base):
    __tablename__ = "touchpoints"
    __table_args__ = (
        Index("ix_touchpoints_branch_at", "branch_id", "occurred_at"),
        Index("ix_touchpoints_customer", "customer_ref"),
        Index("ix_touchpoints_customer_id", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    visit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_ref: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # CRM (migration 0004): the known customer the customer_ref resolved to; the staff member involved
    customer_id: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(Integer)
