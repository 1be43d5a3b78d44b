"""The edge's side of the link: what waits to go up, whether the link is up, and what the centre pushed down."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


class UplinkItem(Base):
    """An event stored at the edge that the centre has not confirmed yet; deleted on its confirmation.

    The order of `id` is the order the edge stored its events in, so each device's events go up in order."""

    __tablename__ = "uplink"
    # ids never reused (SQLite would otherwise hand out a deleted row's id again, behind the publisher's cursor)
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkState(Base):
    """Is the branch's bridge to the centre up (from Mosquitto's bridge notification), and since when."""

    __tablename__ = "link_state"

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    up: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the centre's last confirmation


class CachedItem(Base):
    """Something the centre pushed down for this branch (a lead, branch config, staff, routing hints),
    kept so the edge goes on with what it has while the link is down."""

    __tablename__ = "link_cache"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(BigInteger)  # microseconds of a timestamp, or a generation
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
