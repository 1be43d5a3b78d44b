"""Responses of the referral leads API: the customer only by pseudonymous ref and masked name."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from server.referrals.models import LeadStatus


class LeadOut(BaseModel):
    """A referral lead as staff see it (and as the console's live `crm.lead` event carries it)."""

    id: int
    branch_id: str
    status: LeadStatus
    reason: str = Field(description="what made the lead: a CRM rule or a staff referral")
    business: str | None
    note: str | None
    referrer: str = Field(description="staff:<id> or rule:<reason>")
    assigned_to: int | None = Field(description="the customer manager (staff id)")
    customer_id: int | None
    customer_ref: str | None
    masked_name: str | None
    tier: str | None
    visit_id: str | None
    created_at: datetime
    sla_due_at: datetime = Field(description="accept by then, or it is escalated to the branch manager")
    accepted_at: datetime | None
    met_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalated_to: int | None
    product: str | None
    value: float | None


class LeadListOut(BaseModel):
    items: list[LeadOut]
