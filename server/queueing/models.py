"""Queue tables: per-branch queue state, number counters, counters, tickets and their journeys.

A ticket keeps one row from issue to the end, however many channels it passes through (self-service →
counter → wealth manager); every step is a `queue_ticket_steps` row, so the journey and every
timestamp are kept. Numbers are unique per branch, service day and prefix (a unique constraint backs
the counter row's lock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime, state_type
from server.queueing.transitions import CounterStatus, TicketStatus


class QueueState(Base):
    """One row per branch: issuing open or stopped, and a version bumped by every change.

    Every change first bumps `version` (`UPDATE … SET version = version + 1`): that row lock serialises
    a branch's queue changes across hub workers and server processes, and lets the console notice
    changes made by other processes.
    """

    __tablename__ = "queue_state"

    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"), primary_key=True)
    issuing: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    board_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the last board showed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NumberCounter(Base):
    """The last number handed out per branch and prefix on its service day (reset when the day changes)."""

    __tablename__ = "queue_numbers"

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    service_day: Mapped[str] = mapped_column(String(10))
    last: Mapped[int] = mapped_column(Integer, default=0)


class CounterState(Base):
    """A counter: `open` means serving now; a paused counter is not open and has a `pause_reason`.

    `teller_id` is the teller signed in at the counter (unique: one teller, one counter at a time)."""

    __tablename__ = "queue_counters"
    __table_args__ = (UniqueConstraint("teller_id", name="uq_queue_counters_teller"),)

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    staff_name: Mapped[str | None] = mapped_column(String(100))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    regular_streak: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    teller_id: Mapped[int | None] = mapped_column(Integer)
    teller_name: Mapped[str | None] = mapped_column(String(100))
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(16))  # PauseReason; set while paused
    pause_note: Mapped[str | None] = mapped_column(String(100))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> CounterStatus:
        if self.open:
            return CounterStatus.OPEN
        return CounterStatus.PAUSED if self.pause_reason else CounterStatus.CLOSED


class CounterPause(Base):
    """Every pause of a counter, kept: why, who, from when until when (None: still paused)."""

    __tablename__ = "queue_counter_pauses"
    __table_args__ = (Index("ix_queue_counter_pauses_branch", "branch_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    counter: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_by: Mapped[str] = mapped_column(String(64))
    resumed_by: Mapped[str | None] = mapped_column(String(64))


class Ticket(Base):
    __tablename__ = "queue_tickets"
    __table_args__ = (
        UniqueConstraint("branch_id", "request_id", name="uq_queue_tickets_request"),
        UniqueConstraint("branch_id", "service_day", "number", name="uq_queue_tickets_number"),
        Index("ix_queue_tickets_branch_status", "branch_id", "status"),
        Index("ix_queue_tickets_branch_issued", "branch_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"))
    service_day: Mapped[str] = mapped_column(String(10))
    number: Mapped[str | None] = mapped_column(String(16))  # from the branch's counter
    display: Mapped[str] = mapped_column(String(16))  # what the customer holds: number or provisional number
    provisional_number: Mapped[str | None] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(32), unique=True)  # the status page's secret
    request_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(10))  # kiosk | staff
    business: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # [{rule, zh, en}]
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_ref: Mapped[str | None] = mapped_column(String(64))  # keyed hash only
    visit_id: Mapped[str | None] = mapped_column(String(64))
    appointment_code: Mapped[str | None] = mapped_column(String(12))
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[TicketStatus] = mapped_column(state_type(TicketStatus, 12))
    counter: Mapped[int | None] = mapped_column(Integer)
    target_counter: Mapped[int | None] = mapped_column(Integer)  # transferred to one counter
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    call_reason: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {rule, zh, en}
    est_p50_min: Mapped[float | None] = mapped_column(Float)  # estimate when issued, logged against the
    est_p90_min: Mapped[float | None] = mapped_column(Float)  # actual wait (first_called_at - issued_at)
    mirror_step: Mapped[int | None] = mapped_column(Integer)  # the centre's mirror: the edge step it shows


class TicketStep(Base):
    """One step of a ticket's journey: issued, called, recalled, transferred, parked, resumed, finished…"""

    __tablename__ = "queue_ticket_steps"
    __table_args__ = (Index("ix_queue_ticket_steps_ticket", "ticket_id", "id"),
                      Index("ix_queue_ticket_steps_branch", "branch_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(Integer, ForeignKey("queue_tickets.id"))
    branch_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    business: Mapped[str | None] = mapped_column(String(32))
    counter: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
