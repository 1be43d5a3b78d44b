"""What the audit API returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_name: str | None
    action: str
    object_type: str | None
    object_id: str | None
    branch_id: str | None
    outcome: str
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None
