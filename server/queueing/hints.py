"""What the CRM knows of a customer asking a kiosk for a ticket: their tier, for the routing rules.

A kiosk sends the card's keyed hash (`customer_ref`) and its visit; the customer is the card's owner, or
whoever the visit is known to be (a face match or a card read earlier in the stay). Their tier comes from the
CRM's customer table, which every role's database has (the centre's CRM, or the tier hints pushed down to a
branch's edge node); a tier a kiosk might claim is never taken over it. One query per kind of key per batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.customers.models import Customer, Identity
from server.touchpoints.models import Visit
from szconfig.branch import Tier

# the CRM's tiers (server.customers.rules.Tier) as the routing rules name them
_ROUTING_TIER = {"standard": Tier.REGULAR, "regular": Tier.REGULAR, "gold": Tier.GOLD, "vip": Tier.PLATINUM,
                 "platinum": Tier.PLATINUM, "private": Tier.PRIVATE}
_TIER_ZH = {Tier.REGULAR: "普通", Tier.GOLD: "金卡", Tier.PLATINUM: "贵宾", Tier.PRIVATE: "私人银行"}


@dataclass(frozen=True)
class TierHint:
    """A customer's tier as the CRM has it, and how the kiosk's customer was known (card or visit)."""

    tier: Tier
    source: str  # card | visit

    def reason(self) -> dict[str, str]:
        """The ticket's reason line telling where its tier came from (shown with the routing reason)."""
        how_zh = "刷卡识别" if self.source == "card" else "本次到访已识别"
        how_en = "card" if self.source == "card" else "recognised this visit"
        return {"rule": "crm_tier", "zh": f"客户等级（CRM，{how_zh}）：{_TIER_ZH[self.tier]}",
                "en": f"CRM tier ({how_en}): {self.tier.value}"}


def routing_tier(crm_tier: str | None) -> Tier:
    """The routing tier of a CRM tier (unknown: regular)."""
    return _ROUTING_TIER.get((crm_tier or "").lower(), Tier.REGULAR)


def crm_tiers(session: Session, keys: Iterable[tuple[str | None, str | None]]) -> dict[tuple[str | None, str | None],
                                                                                      TierHint]:
    """(card hash, visit id) → the CRM's tier of that customer, for the keys whose customer the CRM knows; the
    card wins over the visit."""
    keys = list(keys)
    hashes = sorted({h for h, _v in keys if h})
    visits = sorted({v for _h, v in keys if v})
    by_hash: dict[str, str] = {}
    by_visit: dict[str, str] = {}
    if hashes:
        by_hash = dict(session.execute(select(Identity.hash, Customer.tier).join(
            Customer, Customer.id == Identity.customer_id).where(Identity.hash.in_(hashes))).tuples().all())
    if visits:
        by_visit = dict(session.execute(select(Visit.id, Customer.tier).join(
            Customer, Customer.id == Visit.customer_id).where(Visit.id.in_(visits))).tuples().all())
    out = {}
    for h, v in keys:
        if h and h in by_hash:
            out[(h, v)] = TierHint(routing_tier(by_hash[h]), "card")
        elif v and v in by_visit:
            out[(h, v)] = TierHint(routing_tier(by_visit[v]), "visit")
    return out
