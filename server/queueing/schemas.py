"""Request bodies (strict: unknown fields are 422) and responses of the queue API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from server.queueing.transitions import TicketStatus
from server.web.validation import STRICT, Text200
from szconfig.branch import Channel, PriorityClass, Tier
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


# --- responses -----------------------------------------------------------------------------------

class Bilingual(BaseModel):
    zh: str
    en: str


class Reason(Bilingual):
    """Why: the rule that decided, in both languages."""

    rule: str


class WaitingTicketOut(BaseModel):
    """A waiting or parked ticket on the lobby console."""

    id: int
    ticket: str = Field(description="the number the customer holds (official or provisional)")
    number: str | None = Field(description="the branch's own number (none for a provisional ticket not yet seen)")
    business: str
    business_name: Bilingual
    channel: Channel
    priority: PriorityClass
    status: TicketStatus
    reasons: list[Reason] = Field(description="why it waits in this line: routing, then any staff change")
    issued: str | None = Field(description="issue time, HH:MM in the branch's time zone")
    waited_min: float
    people_ahead: int
    wait_p50_min: float | None
    wait_p90_min: float | None
    target_wait_min: int
    max_wait_min: int
    near_target: bool = Field(description="waited, or will have waited, near or past the target")
    over_target: bool
    target_counter: int | None = Field(description="transferred to this counter only")
    provisional: bool


class CounterTicketOut(BaseModel):
    id: int
    ticket: str
    business: str
    called: str | None = Field(description="HH:MM in the branch's time zone")
    calls: int
    reason: Reason | None = Field(description="why this ticket was called now")


class CounterOut(BaseModel):
    number: int
    zone: str
    channel: Channel
    skills: list[str]
    open: bool
    staff: str | None
    state: str = Field(description="open (serving), paused (with pause_reason) or closed")
    teller: str | None = Field(description="the teller signed in at the counter")
    pause_reason: str | None = Field(description="lunch, meeting, system_fault or other, while paused")
    paused_at: str | None = Field(description="HH:MM in the branch's time zone, while paused")
    ticket: CounterTicketOut | None


class QueueOut(BaseModel):
    """The lobby console's queue of one branch."""

    branch: str
    issuing: bool
    version: int = Field(description="bumped by every change of the branch's queue")
    waiting: list[WaitingTicketOut]
    counters: list[CounterOut]
    estimate_mae_min: dict[str, float] = Field(description="per business: mean error of the estimates, last 24 h")


class BusinessKpisOut(BaseModel):
    business: str
    tickets: int
    wait_avg_min: float | None
    wait_p90_min: float | None
    service_avg_min: float | None
    service_p90_min: float | None
    within_target_pct: float | None
    no_shows: int
    left_without_service: int
    estimate_mae_min: float | None


class QueueKpisOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    branch: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    tickets: int
    diversion_rate: float | None = Field(description="share of tickets handled at self-service")
    businesses: list[BusinessKpisOut]


class CounterActionOut(BaseModel):
    """A counter's call, recall or finish: the ticket it now has (and why), the one it finished."""

    counter: int
    ticket: str | None
    ticket_id: int | None
    reason: Reason | None
    finished: str | None


class CounterStateOut(BaseModel):
    counter: int
    open: bool


class IssuingOut(BaseModel):
    branch: str
    issuing: bool


class StepOut(BaseModel):
    at: datetime
    action: str
    channel: str | None
    business: str | None
    counter: int | None
    actor: str
    detail: dict[str, Any]


class TicketOut(BaseModel):
    """A ticket and its journey."""

    id: int
    ticket: str
    number: str | None
    business: str
    channel: Channel
    priority: PriorityClass
    status: TicketStatus
    reasons: list[Reason]
    call_reason: Reason | None
    counter: int | None
    identified: bool = Field(description="the customer is known to the CRM (the ticket carries a keyed hash)")
    issued_at: datetime
    est_p50_min: float | None
    est_p90_min: float | None
    journey: list[StepOut]


class TicketMovedOut(BaseModel):
    """A ticket after a staff move."""

    id: int
    ticket: str
    status: TicketStatus
    business: str
    channel: Channel
    priority: PriorityClass
