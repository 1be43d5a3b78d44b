"""The raw event log (one row per device message, keyed by its id) and the dead letters."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_branch_ts", "branch_id", "ts"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the envelope's uuid
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class DeadLetter(Base):
    """A message we could not accept, kept with its raw bytes and the reason, for someone to look at."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # sha256 of topic + payload: a redelivered message is not dead-lettered twice.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(512))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the first bytes, up to the hub's limit
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
