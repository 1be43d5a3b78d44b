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


class LeadScoring(BaseModel):
    """Points that rank a lead: who the customer is (tier, AUM band), what they want (interest), how long
    they have waited for a manager."""

    model_config = ConfigDict(extra="forbid")

    tier: dict[Tier, int] = Field(default_factory=lambda: {Tier.STANDARD: 0, Tier.GOLD: 10, Tier.VIP: 25,
                                                           Tier.PRIVATE: 35}, description="points by tier")
    aum_band: dict[str, int] = Field(default_factory=lambda: {"0-50k": 0, "50k-500k": 5, "500k-6m": 15, "6m+": 25},
                                     description="points by declared AUM band (holdings)")
    product_interest: int = Field(default=20, ge=0, le=1000,
                                  description="points when the lead is about a product (wealth, …), not only the "
                                              "relationship")
    reason: dict[str, int] = Field(default_factory=lambda: {"staff_referral": 10},
                                   description="points by why it was raised (a colleague vouching counts)")
    tag: dict[str, int] = Field(default_factory=lambda: {"wealth_interest": 10},
                                description="points for customer tags that show an interest")
    wait_step_minutes: int = Field(default=5, ge=1, le=60, description="waiting adds points in steps of this")
    wait_points_per_step: int = Field(default=5, ge=0, le=100, description="points per step waited")
    wait_cap_minutes: int = Field(default=30, ge=0, le=24 * 60, description="waiting adds nothing beyond this")


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
    lead_scoring: LeadScoring = Field(default_factory=LeadScoring,
                                      description="how leads are ranked for customer managers")


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


RELATIONSHIP = "relationship"  # a lead about the customer, not about a product they asked for


def lead_interest(reason: str, business: str | None, rules: CrmRules) -> str:
    """The product line a lead is about (leads are deduplicated per customer and interest per day)."""
    if business in rules.wealth_businesses:
        return business  # type: ignore[return-value]
    if reason == LeadReason.WEALTH_INTEREST:
        return rules.wealth_businesses[0] if rules.wealth_businesses else RELATIONSHIP
    return RELATIONSHIP


def lead_score(*, tier: str | None, aum_band: str | None, reason: str, interest: str, tags: Iterable[str],
               scoring: LeadScoring) -> int:
    """The lead's standing points, fixed when it is raised (waiting adds `wait_points` while it is open)."""
    points = scoring.tier.get(Tier(tier), 0) if tier in TIER_ORDER else 0
    points += scoring.aum_band.get(aum_band or "", 0) + scoring.reason.get(reason, 0)
    points += scoring.product_interest if interest != RELATIONSHIP else 0
    return points + sum(scoring.tag.get(t, 0) for t in set(tags) if t != reason)


def wait_steps(scoring: LeadScoring) -> list[tuple[int, int]]:
    """(minutes waited at least, points), longest first: the table both Python and SQL rank by."""
    step = scoring.wait_step_minutes
    return [(m, (m // step) * scoring.wait_points_per_step)
            for m in range(scoring.wait_cap_minutes - scoring.wait_cap_minutes % step, 0, -step)]


def wait_points(minutes: float, scoring: LeadScoring) -> int:
    """Points for a lead that has waited `minutes` for a manager to act."""
    return next((p for m, p in wait_steps(scoring) if minutes >= m), 0)
