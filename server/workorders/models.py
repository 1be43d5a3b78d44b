"""Work orders: the branch team or a field engineer fixes what an alarm reported."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class WorkOrderStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Team(StrEnum):
    BRANCH = "branch"   # branch staff: refill paper, clear a jam, empty the retain bin
    FIELD = "field"     # a field engineer: hardware faults


OPEN_STATES = (WorkOrderStatus.OPEN.value, WorkOrderStatus.ASSIGNED.value, WorkOrderStatus.ON_SITE.value)


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (Index("ix_work_orders_branch_status", "branch_id", "status"),
                      Index("ix_work_orders_device", "branch_id", "device_id", "task"),
                      Index("ix_work_orders_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(String(16))
    task: Mapped[str] = mapped_column(String(32))   # refill_paper, clear_jam, …
    status: Mapped[WorkOrderStatus] = mapped_column(state_type(WorkOrderStatus, 16))
    reason: Mapped[str] = mapped_column(String(200))  # the alarm type, or "forecast"
    alarm_id: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assignee: Mapped[str | None] = mapped_column(String(100))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # migration 0009: the service level
    severity: Mapped[str | None] = mapped_column(String(16))      # the worst alarm (or forecast) behind it
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # fixed by then (rules.due_in)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when its lateness was notified
