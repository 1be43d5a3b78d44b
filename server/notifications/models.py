"""Notifications, their deliveries per channel and recipient, and the on-call rota."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class Channel(StrEnum):
    EMAIL = "email"      # SMTP, to the on-call shift's address
    WEBHOOK = "webhook"  # a signed POST to a team's bot (WeCom/DingTalk-style group chat)
    BELL = "bell"        # the console's own unread list, per staff member


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"        # accepted by the SMTP server or the bot; a bell entry is sent when written
    DEAD = "dead"        # given up: too many attempts, or refused for good (a 4xx); kept for someone to see


class RotaTeam(StrEnum):
    """Who is on call: branch staff (paper, jams), field engineers, the branch's managers (lead SLAs)."""

    BRANCH = "branch"
    FIELD = "field"
    MANAGERS = "managers"


class Notification(Base):
    """Something someone must be told, once: `key` makes every caller idempotent."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_branch_created", "branch_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # e.g. "alarm:12:escalated:2"
    branch_id: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))  # alarm_escalated | work_order_due | lead_sla
    severity: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer, default=1)  # rota levels told: 1 = first call
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    body_en: Mapped[str] = mapped_column(String(1000))
    body_zh: Mapped[str] = mapped_column(String(1000))
    link: Mapped[str | None] = mapped_column(String(200))  # a console path, e.g. /devices/12
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One notification to one recipient on one channel: the queue, the retry state and the log."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "channel", "recipient", name="uq_notification_delivery"),
                      Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_notification_deliveries_bell", "staff_id", "channel", "read_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))  # an e-mail address, a bot's rota key, staff:<id>
    staff_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(state_type(DeliveryStatus, 12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the bell: when its reader marked it read
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OnCallShift(Base):
    """A staff member on call for a branch and team from `starts_at` to `ends_at`; level 1 is called first."""

    __tablename__ = "oncall_shifts"
    __table_args__ = (Index("ix_oncall_shifts_branch_team", "branch_id", "team", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"))
    team: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(200))  # where this shift is reached by e-mail
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
