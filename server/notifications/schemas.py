"""API shapes of notifications: the bell, the delivery log, the on-call rota."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator

from server.notifications.models import DeliveryStatus, RotaTeam
from server.web.validation import STRICT


class BellItem(BaseModel):
    id: int = Field(description="the bell entry (mark it read with this id)")
    notification_id: int
    kind: str
    severity: str
    branch_id: str
    title: str = Field(description="in the reader's language")
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class Unread(BaseModel):
    unread: int


class ReadIn(BaseModel):
    model_config = STRICT
    ids: list[Annotated[int, Field(ge=1)]] | None = Field(default=None, max_length=200,
                                                         description="bell entries to mark read; none: all")


class DeliveryOut(BaseModel):
    id: int
    channel: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    read_at: datetime | None


class NotificationOut(BaseModel):
    id: int
    key: str
    branch_id: str
    team: str
    kind: str
    severity: str
    level: int
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str
    link: str | None
    created_at: datetime
    deliveries: list[DeliveryOut]


class ShiftIn(BaseModel):
    model_config = STRICT
    team: RotaTeam
    staff_id: Annotated[int, Field(ge=1)]
    level: Annotated[int, Field(ge=1, le=3, description="1 is called first; 2 from the second escalation on")] = 1
    starts_at: datetime
    ends_at: datetime
    email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.starts_at.tzinfo is None) or (self.ends_at.tzinfo is None):
            raise ValueError("give times with their offset (RFC 3339), e.g. 2026-12-07T08:00:00+08:00")
        return self


class ShiftOut(BaseModel):
    id: int
    branch_id: str
    team: str
    staff_id: int
    username: str
    level: int
    starts_at: datetime
    ends_at: datetime
    email: str | None
    created_by: str
