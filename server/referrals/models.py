"""Referral leads: who referred whom to which customer manager, and what came of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, state_type


class LeadStatus(StrEnum):
    CREATED = "created"
    ACCEPTED = "accepted"
    MET = "met"
    CONVERTED = "converted"
    DECLINED = "declined"
    EXPIRED = "expired"


OPEN = (LeadStatus.CREATED, LeadStatus.ACCEPTED, LeadStatus.MET)
WAITING = (LeadStatus.CREATED, LeadStatus.ACCEPTED)  # nobody has met the customer yet: waiting adds points


class Routing(StrEnum):
    """How a lead found its manager."""

    OWN_MANAGER = "own_manager"    # the customer's assigned manager, who works in the branch
    ON_DUTY = "on_duty"            # the branch's on-duty manager (level 1 of the `managers` rota)
    LEAST_LOADED = "least_loaded"  # nobody on duty: the customer manager with the fewest open leads
    MANUAL = "manual"              # reassigned by staff
    NONE = "none"                  # the branch has no customer manager


class Outcome(StrEnum):
    """What came of a lead (kept with converted, declined and expired leads)."""

    CONVERTED = "converted"
    NOT_INTERESTED = "not_interested"
    NO_CONTACT = "no_contact"
    ALREADY_SERVED = "already_served"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"
    EXPIRED = "expired"


DECLINE_OUTCOMES = (Outcome.NOT_INTERESTED, Outcome.NO_CONTACT, Outcome.ALREADY_SERVED, Outcome.NOT_ELIGIBLE,
                    Outcome.OTHER)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_branch_status", "branch_id", "status", "created_at"),
        Index("ix_referrals_updated", "updated_at"),
        Index("ix_referrals_assigned", "assigned_to", "status"),
        Index("ix_referrals_customer_day", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # one lead (one credit) per customer, interest and local day: "<customer id>:<interest>:<day>";
    # a walk-in: "walk-in:<uuid>" (leads before migration 0010: "<customer>:<visit or day>")
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    visit_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    business: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    referrer: Mapped[str] = mapped_column(String(80))  # staff:<id> or rule:<reason>
    referrer_staff_id: Mapped[int | None] = mapped_column(Integer)
    assigned_to: Mapped[int | None] = mapped_column(Integer)  # the customer manager (staff id)
    status: Mapped[LeadStatus] = mapped_column(state_type(LeadStatus, 12), default=LeadStatus.CREATED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_to: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(64))  # what was sold (convert)
    value: Mapped[float | None] = mapped_column(Float)
    # migration 0011_crm: what the lead is about, its standing points, how it was routed, what came of it
    interest: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer, default=0)
    routed: Mapped[Routing | None] = mapped_column(state_type(Routing, 16))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in_reason: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[Outcome | None] = mapped_column(state_type(Outcome, 16))
    outcome_note: Mapped[str | None] = mapped_column(String(200))


class LeadTask(Base):
    """A follow-up a manager promised on a lead: call back, send documents, meet again."""

    __tablename__ = "lead_tasks"
    __table_args__ = (Index("ix_lead_tasks_lead", "lead_id", "due_at"),
                      Index("ix_lead_tasks_assigned_due", "assigned_to", "done_at", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    branch_id: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200))  # numbers in it are masked before it is stored
    assigned_to: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(Integer)
