"""Devices: registered on their first birth (or from config), kept current by state, status and heartbeats.

Also the fleet's history: the device timeline (presence, status, service changes, alarms, commands),
usage sessions, hourly utilisation roll-ups and remote commands.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime, state_type


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("branch_id", "device_id", name="uq_devices_branch_device"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"))
    device_id: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(200))
    sw: Mapped[str | None] = mapped_column(String(200))
    components: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    session: Mapped[int] = mapped_column(BigInteger, default=0)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    seq_gaps: Mapped[int] = mapped_column(Integer, default=0)
    # fleet (migration 0005)
    zone: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    in_service: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # not put out of service
    available: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # serving customers now
    presence_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    maintenance_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    maintenance_reason: Mapped[str | None] = mapped_column(String(200))
    receipts_since_refill: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paper_refilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # for the console's live poller
    # presence and paper forecast (migration 0009)
    offline_reason: Mapped[str | None] = mapped_column(String(16))  # OfflineCause while offline
    paper_low_receipts: Mapped[int | None] = mapped_column(Integer)  # this roll: printed when low was reported
    paper_out_receipts: Mapped[int | None] = mapped_column(Integer)  # this roll: printed when it ran out
    paper_model: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # learned: server.devices.paper
    paper_low_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # forecast
    paper_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # forecast


class OfflineCause(StrEnum):
    """Why a device is offline: said goodbye, lost (its will), or silent past the timeout."""

    SHUTDOWN = "shutdown"
    LOST = "lost"
    TIMEOUT = "timeout"


class PaperRoll(Base):
    """One finished paper roll of a printer: what it printed until low, until out, until refilled."""

    __tablename__ = "paper_rolls"
    __table_args__ = (Index("ix_paper_rolls_device", "branch_id", "device_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the refill that began it (None: unknown)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)           # the refill that ended it
    printed: Mapped[int] = mapped_column(Integer)                     # receipts on this roll in all
    printed_at_low: Mapped[int | None] = mapped_column(Integer)       # when the near-end sensor tripped
    printed_at_out: Mapped[int | None] = mapped_column(Integer)       # when it ran out (None: refilled before)


class TimelineKind(StrEnum):
    PRESENCE = "presence"
    STATUS = "status"
    SERVICE = "service"
    ALARM = "alarm"
    COMMAND = "command"
    WORK_ORDER = "work_order"


class TimelineEntry(Base):
    """One thing that happened to a device; status history and availability are read from here."""

    __tablename__ = "device_timeline"
    __table_args__ = (Index("ix_device_timeline_device_at", "branch_id", "device_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class UsageSession(Base):
    """One use of a device (from `usage_session` events): busy time, sessions, failures."""

    __tablename__ = "usage_sessions"
    __table_args__ = (Index("ix_usage_sessions_device_start", "branch_id", "device_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    function: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))


class UsageHour(Base):
    """Hourly roll-up per device: opening, available and busy seconds, sessions, failures."""

    __tablename__ = "device_usage_hourly"
    __table_args__ = (UniqueConstraint("branch_id", "device_id", "hour", name="uq_device_usage_hourly_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(32))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    open_s: Mapped[float] = mapped_column(default=0.0)
    available_s: Mapped[float] = mapped_column(default=0.0)
    busy_s: Mapped[float] = mapped_column(default=0.0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class CommandStatus(StrEnum):
    QUEUED = "queued"      # the device is offline: waits until it returns or the command expires
    SENT = "sent"          # handed to the hub's relay
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"
    EXPIRED = "expired"


class DeviceCommand(Base):
    __tablename__ = "device_commands"
    __table_args__ = (Index("ix_device_commands_device", "branch_id", "device_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command_id: Mapped[str] = mapped_column(String(64), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[CommandStatus] = mapped_column(state_type(CommandStatus, 16))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

