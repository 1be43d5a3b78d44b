"""Staff accounts, their branches and their sign-in sessions (browser cookies and bearer tokens)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    """What a staff member does; decides which pages and endpoints they may use."""

    LOBBY_STAFF = "lobby_staff"
    TELLER = "teller"
    CUSTOMER_MANAGER = "customer_manager"
    BRANCH_MANAGER = "branch_manager"
    MAINTENANCE = "maintenance"
    ADMIN = "admin"


class SessionKind(StrEnum):
    BROWSER = "browser"
    BEARER = "bearer"


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(32))
    all_branches: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failed_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    branches: Mapped[list[StaffBranch]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StaffBranch.branch_id"
    )

    @property
    def branch_ids(self) -> list[str]:
        return [b.branch_id for b in self.branches]


class StaffBranch(Base):
    __tablename__ = "staff_branches"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), primary_key=True, index=True)


class StaffSession(Base):
    """A sign-in: only the SHA-256 of the secret is stored, so a DB leak yields no usable token."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
