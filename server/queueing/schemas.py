"""Request bodies of the queue API (strict: unknown fields are 422)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from server.web.validation import STRICT, Text200
from szconfig.branch import PriorityClass, Tier
from wire.ids import Ident

BusinessCode = Ident


class IssueIn(BaseModel):
    """A ticket issued by staff (a customer at the lobby desk)."""

    model_config = STRICT
    business: BusinessCode
    tier: Tier = Tier.REGULAR
    elderly: bool = False
    appointment_at: AwareDatetime | None = None


class TransferIn(BaseModel):
    model_config = STRICT
    business: BusinessCode | None = None
    counter: int | None = Field(default=None, ge=1, le=999)
    front: bool = Field(default=False, description="to the front of the line (else the back)")


class ReprioritiseIn(BaseModel):
    model_config = STRICT
    priority: PriorityClass
    reason: Annotated[Text200, StringConstraints(min_length=1)]


class IssuingIn(BaseModel):
    model_config = STRICT
    issuing: bool


class KpiRange(BaseModel):
    start: datetime
    end: datetime
