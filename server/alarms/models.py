"""Alarms: at most one active alarm per device and type (a repeating fault updates it)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime, state_type


class AlarmType(StrEnum):
    DEVICE_OFFLINE = "DEVICE_OFFLINE"
    PAPER_LOW = "PAPER_LOW"
    PAPER_OUT = "PAPER_OUT"
    MEDIA_JAMMED = "MEDIA_JAMMED"
    CARD_RETAINED = "CARD_RETAINED"
    RETAIN_BIN_HIGH = "RETAIN_BIN_HIGH"
    RETAIN_BIN_FULL = "RETAIN_BIN_FULL"
    HARDWARE_ERROR = "HARDWARE_ERROR"
    CAMERA_INOP = "CAMERA_INOP"
    HIGH_ERROR_RATE = "HIGH_ERROR_RATE"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"


class AlarmStatus(StrEnum):
    """ISA-18.2-style states: active or cleared, acknowledged or not."""

    ACTIVE_UNACK = "ACTIVE_UNACK"
    ACTIVE_ACK = "ACTIVE_ACK"
    CLEARED_UNACK = "CLEARED_UNACK"
    CLEARED_ACK = "CLEARED_ACK"


ACTIVE = (AlarmStatus.ACTIVE_UNACK.value, AlarmStatus.ACTIVE_ACK.value)


class Alarm(Base):
    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_branch_status", "branch_id", "status"),
                      Index("ix_alarms_device", "branch_id", "device_id", "started_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "<branch>/<device>/<type>" while active, NULL once cleared: the unique constraint keeps one active
    # alarm per device and type on SQLite and PostgreSQL alike (NULLs never collide)
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[AlarmStatus] = mapped_column(state_type(AlarmStatus, 16))
    detail: Mapped[str | None] = mapped_column(String(200))
    onset_at: Mapped[datetime] = mapped_column(UTCDateTime)      # when the fault began (e.g. last heartbeat)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)    # when we detected it
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)       # last time the fault was reported again
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(64))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(64))   # "device", "work_order:<id>", a staff actor
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    work_order_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(16))  # XFS4IoT error action reported with it (migration 0009)
    comments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
