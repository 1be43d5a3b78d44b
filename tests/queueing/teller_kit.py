"""Test data for the teller workstation: a known customer with a card, a lead, and tickets (taken at `now`)."""

from __future__ import annotations

from datetime import datetime

from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.privacy import keyed_hash, normalise_number
from server.customers.service import upsert_customer
from server.queueing import issuing
from server.referrals.service import create_leads

KEY = "k" * 8
CARD = "6222020200112233445"


def known_customer(factory, now: datetime, *, tier: str = "gold", tags: tuple[str, ...] = ("wealth_prospect",)
                   ) -> tuple[int, str, str]:
    """A b001 customer with a card and an open wealth lead: (customer id, masked name, the card's keyed hash)."""
    with factory() as s, s.begin():
        c, _new = upsert_customer(s, parse_row({**demo_rows()[1], "customer_id": "TELLER1", "phone": "",
                                                "card_number": CARD, "tier": tier, "aum_band": "50k-500k"},
                                               [KEY], KEY), branch_id="b001", now=now)
        c.tags = list(tags)
        create_leads(s, [{"branch_id": "b001", "customer_id": c.id, "reason": "wealth_business",
                          "business": "wealth", "referrer": "rule:wealth_business"}], now)
        return c.id, c.masked_name, keyed_hash(normalise_number(CARD), KEY)


def ticket(factory, now: datetime, business: str = "card", *, customer_ref: str | None = None) -> tuple[int, str]:
    """A waiting ticket in b001: (id, number)."""
    with factory() as s, s.begin():
        t = issuing.issue(s, branch_id="b001", business=business, now=now, customer_ref=customer_ref).ticket
        return t.id, t.display
