"""Responses of the referral leads API: the customer only by pseudonymous ref and masked name."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from server.referrals.models import LeadStatus, Outcome, Routing


class LeadOut(BaseModel):
    """A referral lead as staff see it (and as the console's live `crm.lead` event carries it)."""

    id: int
    branch_id: str
    status: LeadStatus
    reason: str = Field(description="what made the lead: a CRM rule or a staff referral")
    business: str | None
    interest: str | None = Field(description="the product line it is about (wealth, …) or `relationship`; one lead "
                                             "per customer, interest and day")
    note: str | None
    walk_in_reason: str | None = Field(description="why staff raised a lead without a known customer")
    referrer: str = Field(description="staff:<id> or rule:<reason>")
    assigned_to: int | None = Field(description="the customer manager (staff id)")
    assigned_name: str | None
    routed: Routing | None = Field(description="how it found its manager")
    assigned_at: datetime | None
    customer_id: int | None
    customer_ref: str | None
    masked_name: str | None
    tier: str | None
    aum_band: str | None = Field(description="the customer's declared holdings band")
    visit_id: str | None
    score: int = Field(description="standing points: tier, AUM band, interest")
    rank: int = Field(description="score plus waiting points while nobody has met the customer; the list's order")
    created_at: datetime
    sla_due_at: datetime = Field(description="accept by then, or it is escalated to the branch manager")
    accepted_at: datetime | None
    met_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalated_to: int | None
    product: str | None
    value: float | None
    outcome: Outcome | None = Field(description="what came of a closed lead")
    outcome_note: str | None
    open_tasks: int = Field(description="follow-ups not done yet")
    next_task_due: datetime | None


class LeadListOut(BaseModel):
    items: list[LeadOut]


class TaskOut(BaseModel):
    """A follow-up on a lead."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    due_at: datetime
    note: str = Field(description="numbers in it are masked")
    assigned_to: int | None
    created_by: int
    created_at: datetime
    done_at: datetime | None
    done_by: int | None


class LeadDetailOut(LeadOut):
    tasks: list[TaskOut] = Field(description="open follow-ups first, by due time")
