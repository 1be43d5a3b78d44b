"""The retention log: one row per run of a retention job (what, up to when, how much was deleted)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class Target(StrEnum):
    TOUCHPOINTS = "touchpoints"
    VISITS = "visits"
    AUDIT = "audit"


class RetentionRun(Base):
    """A run of a retention job. For the audit log it is also the permit: the append-only trigger lets a row
    go only when a logged run's cutoff is past it (migration 0011_crm)."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_target_cutoff", "target", "cutoff"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[Target] = mapped_column(state_type(Target, 16))
    keep_days: Mapped[int] = mapped_column(Integer)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)  # rows older than this are deleted
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)  # False: the run's bound stopped it; more is due
