"""Responses of the customer 360 API: masked and pseudonymous by construction (no clear name or number field)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.customers.models import ConsentKind
from server.referrals.models import LeadStatus


class ConsentFlags(BaseModel):
    face: bool
    marketing: bool


class CustomerOut(BaseModel):
    """Everything staff may see of a customer."""

    id: int
    ref: str = Field(description="pseudonymous reference (c-<16 hex>)")
    branch_id: str
    masked_name: str
    phone: str | None = Field(description="masked")
    id_number: str | None = Field(description="masked")
    tier: str
    aum_band: str | None
    tags: list[str]
    language: str
    elderly: bool
    consents: ConsentFlags
    last_seen_at: datetime | None


class CustomerListOut(BaseModel):
    items: list[CustomerOut]


class VisitOut(BaseModel):
    id: str
    branch_id: str
    device_id: str | None
    started_at: datetime
    ended_at: datetime | None
    touchpoints: int


class OpenReferralOut(BaseModel):
    id: int
    status: LeadStatus
    reason: str
    business: str | None
    created_at: datetime


class SurveyOut(BaseModel):
    at: datetime
    score: int | None
    device_id: str | None


class ManagerOut(BaseModel):
    id: int
    name: str
    active: bool


class CustomerDetailOut(CustomerOut):
    """The customer's profile: the masked view, holdings band, assigned manager, usual business, recent visits,
    open leads, surveys (notes: GET /api/customers/{id}/notes, for the branch's own staff)."""

    holdings: str | None = Field(description="the declared AUM band as shown on the page (never amounts)")
    manager: ManagerOut | None = Field(description="the customer's assigned customer manager")
    usual_business: str | None
    recent_visits: list[VisitOut]
    open_referrals: list[OpenReferralOut]
    satisfaction: list[SurveyOut]


class TouchpointOut(BaseModel):
    id: int
    at: datetime
    branch_id: str
    device_id: str | None
    channel: str | None
    type: str
    outcome: str | None
    visit_id: str | None
    staff_id: int | None
    detail: dict[str, Any] = Field(description="only fields that name no person (business, score, tags, …)")


class TimelineOut(BaseModel):
    customer_ref: str
    items: list[TouchpointOut]


class ConsentEntryOut(BaseModel):
    id: int
    kind: ConsentKind
    granted: bool
    at: datetime
    source: str
    text_version: str
    device_id: str | None


class ConsentsOut(BaseModel):
    customer_ref: str
    current: ConsentFlags
    ledger: list[ConsentEntryOut] = Field(description="every grant and withdrawal, newest first")


class ConsentRecordedOut(BaseModel):
    id: int
    kind: ConsentKind
    granted: bool
    at: datetime
    current: ConsentFlags


class FaceConsentOut(BaseModel):
    face: bool
    text_version: str


class EnrolledOut(BaseModel):
    templates: int = Field(description="templates stored (encrypted)")
    consent: FaceConsentOut


class TouchpointCreatedOut(BaseModel):
    event_id: str


class ArrivalsOut(BaseModel):
    at: datetime = Field(description="start of the hour or day")
    visits: int


class ReferralKpisOut(BaseModel):
    funnel: dict[str, int] = Field(description="leads that reached created, accepted, met, converted")
    by_status: dict[str, int]
    declined: int
    expired: int
    conversion_rate: float | None
    value: float


class SatisfactionKpisOut(BaseModel):
    surveys: int
    csat: float | None = Field(description="share of 4-5 scores")
    nps: float | None = Field(description="from surveys that carried the optional 0-10 question (`nps`); none "
                                          "when no survey did")
    nps_answers: int
    by_device: dict[str, float | None] = Field(description="CSAT per device")
    surveys_by_device: dict[str, int]


class DeviceUseOut(BaseModel):
    device: str
    utilisation: float | None = Field(description="busy share of the time it was in service and open")
    availability: float | None
    sessions: int


class UtilisationKpisOut(BaseModel):
    availability: float | None
    utilisation: float | None
    devices: list[DeviceUseOut]


class StaffKpisOut(BaseModel):
    staff_id: int
    name: str | None
    made: int
    accepted: int
    converted: int
    value: float


class BranchKpisOut(BaseModel):
    """Visits and arrivals, diversion, referral funnel, satisfaction, identification, per-staff referrals."""

    model_config = ConfigDict(populate_by_name=True)

    branch_id: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    visits: int
    arrivals: list[ArrivalsOut]
    bucket: str = Field(description="hour or day")
    tickets: int
    tickets_by_business: dict[str, int]
    diversion_rate: float | None
    identification_rate: float | None
    identified_visits: int
    referrals: ReferralKpisOut
    satisfaction: SatisfactionKpisOut
    utilisation: UtilisationKpisOut
    staff: list[StaffKpisOut]


class NoteOut(BaseModel):
    id: int
    body: str = Field(description="numbers in it are masked before it is stored")
    author_id: int
    author: str | None
    created_at: datetime


class NotesOut(BaseModel):
    customer_ref: str
    items: list[NoteOut] = Field(description="newest first")


class ManagerAssignedOut(BaseModel):
    customer_ref: str
    manager: ManagerOut | None
