"""Messages for devices, written in the same transaction as the change that caused them.

The server knows no MQTT: a row names its audience (branch, optional device) and kind;
the hub's relay turns it into a topic and an envelope (with `message_id` as the envelope id,
so a message re-sent after a crash is recognised as the same one).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # the message type: wire.messages.HUB_TYPES
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    retain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
