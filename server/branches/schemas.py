"""What the branches API returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class BranchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name_zh: str
    name_en: str
    kind: str
    timezone: str
    updated_at: datetime


class BranchDetail(BranchOut):
    zones: list[dict] = []
    counters: list[dict] = []
    business_types: list[dict] = []
