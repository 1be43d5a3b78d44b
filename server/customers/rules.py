"""Tags, tiers and lead rules as pure functions over plain facts (no I/O), configured by CrmRules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Tier(StrEnum):
    STANDARD = "standard"
    GOLD = "gold"
    VIP = "vip"
    PRIVATE = "private"


TIER_ORDER = [Tier.STANDARD, Tier.GOLD, Tier.VIP, Tier.PRIVATE]
AUM_BANDS = ("0-50k", "50k-500k", "500k-6m", "6m+")


class CrmRules(BaseModel):
    """The rule parameters (configs/crm.toml may override any of them)."""

    model_config = ConfigDict(extra="forbid")

    tier_by_aum: dict[str, Tier] = Field(default_factory=lambda: {
        "0-50k": Tier.STANDARD, "50k-500k": Tier.GOLD, "500k-6m": Tier.VIP, "6m+": Tier.PRIVATE},
        description="declared AUM band → base tier")
    active_visits_90d: int = Field(default=6, ge=1, description="visits in 90 days that lift standard to gold")
    wealth_businesses: list[str] = Field(default_factory=lambda: ["wealth"], description="business codes of wealth")
    wealth_interest_count: int = Field(default=2, ge=1, description="wealth asks within the window → wealth_interest")
    wealth_interest_days: int = Field(default=30, ge=1)
    frequent_visits_30d: int = Field(default=4, ge=1, description="visits in 30 days → frequent_visitor")
    elderly_age: int = Field(default=60, ge=40)
    lead_tiers: list[Tier] = Field(default_factory=lambda: [Tier.VIP, Tier.PRIVATE],
                                   description="tiers whose arrival makes a lead")
    lead_tags: list[str] = Field(default_factory=lambda: ["wealth_interest"],
                                 description="tags whose ticket makes a lead")


@dataclass(frozen=True)
class Activity:
    """What the touchpoints say about one customer (only what the rules need)."""

    visit_days: Sequence[datetime] = ()          # start of each visit
    wealth_asks: Sequence[datetime] = ()         # ticket requests for a wealth business


@dataclass(frozen=True)
class Profile:
    aum_band: str | None
    birth_date: date | None
    activity: Activity = field(default_factory=Activity)
    declared_tier: str | None = None


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def evaluate(profile: Profile, now: datetime, rules: CrmRules) -> tuple[Tier, list[str], bool]:
    """(tier, tags, elderly) for a customer at `now`."""
    tier = rules.tier_by_aum.get(profile.aum_band or "", Tier.STANDARD)
    if profile.declared_tier in TIER_ORDER and TIER_ORDER.index(Tier(profile.declared_tier)) > TIER_ORDER.index(tier):
        tier = Tier(profile.declared_tier)
    visits_90 = sum(1 for t in profile.activity.visit_days if now - t <= timedelta(days=90))
    visits_30 = sum(1 for t in profile.activity.visit_days if now - t <= timedelta(days=30))
    if tier is Tier.STANDARD and visits_90 >= rules.active_visits_90d:
        tier = Tier.GOLD
    tags: list[str] = []
    window = timedelta(days=rules.wealth_interest_days)
    if sum(1 for t in profile.activity.wealth_asks if now - t <= window) >= rules.wealth_interest_count:
        tags.append("wealth_interest")
    if visits_30 >= rules.frequent_visits_30d:
        tags.append("frequent_visitor")
    elderly = profile.birth_date is not None and age_on(profile.birth_date, now.date()) >= rules.elderly_age
    if elderly:
        tags.append("elderly")
    if tier in (Tier.VIP, Tier.PRIVATE):
        tags.append("high_value")
    return tier, sorted(tags), elderly


class LeadReason(StrEnum):
    VIP_ARRIVAL = "vip_arrival"
    WEALTH_INTEREST = "wealth_interest"
    WEALTH_BUSINESS = "wealth_business"
    STAFF_REFERRAL = "staff_referral"


@dataclass(frozen=True)
class LeadFacts:
    """One customer-facing event as the lead rules see it."""

    event_type: str                 # ticket_request | face_match | card_read
    business: str | None
    tier: str | None                # None: not a known customer
    tags: Iterable[str] = ()


def lead_reason(f: LeadFacts, rules: CrmRules) -> LeadReason | None:
    """Why this event deserves a customer manager's attention, or None."""
    if f.tier is not None and f.tier in rules.lead_tiers and f.event_type in ("ticket_request", "face_match"):
        return LeadReason.VIP_ARRIVAL
    if f.event_type == "ticket_request" and f.business in rules.wealth_businesses:
        return LeadReason.WEALTH_BUSINESS
    if f.event_type == "ticket_request" and set(f.tags) & set(rules.lead_tags):
        return LeadReason.WEALTH_INTEREST
    return None
