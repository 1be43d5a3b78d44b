"""Devices: registered on their first birth, kept current by state, status and heartbeats."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


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
