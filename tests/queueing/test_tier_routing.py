"""The CRM's tier reaches routing when the hub issues a kiosk ticket (SQLite and PostgreSQL, the ingest path)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.privacy import keyed_hash
from server.customers.service import upsert_customer
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.queueing.hints import routing_tier
from server.queueing.models import Ticket
from szconfig.branch import Tier
from tests.server.helpers import bearer

KEY = "k" * 8
MORNING = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 09:30 Monday in Shanghai


def _customer(s, n: int, card: str, band: str) -> None:
    row = {**demo_rows()[n % 6], "customer_id": f"TIER{n}", "phone": "", "card_number": card, "tier": "",
           "aum_band": band}
    upsert_customer(s, parse_row(row, [KEY], KEY), branch_id="b001", now=MORNING)


def _event(type_: str, data: dict) -> EventRecord:
    return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=0, type=type_, ts=MORNING, data=data)


def _ticket_request(request_id: str, business: str, visit: str, card: str | None = None) -> list[EventRecord]:
    ref = keyed_hash(card, KEY) if card else None
    out = [_event("visit", {"visit_id": visit, "phase": "start"})]
    if ref:
        out.append(_event("card_read", {"card_kind": "bank", "card_hash": ref, "masked": "622848******0000",
                                        "visit_id": visit}))
    out.append(_event("ticket_request", {"request_id": request_id, "business": business, "visit_id": visit,
                                         "customer_ref": ref}))
    return out


def test_the_crm_tier_routes_a_kiosk_ticket_with_its_reason(migrated, client, make_user) -> None:
    """GIVEN a gold customer (AUM 50k-500k) and a VIP customer in the CRM WHEN the gold customer's card asks a
    kiosk for a card-business ticket, a stranger's card asks for the same, and the VIP customer, known to the
    visit by a card read earlier in the stay, asks for wealth advice without a card THEN the gold ticket is
    gold, in priority by the gold rule, its reasons saying so and that the CRM's tier came from the card; the
    stranger's stays regular with the default reason only; the VIP's goes to the VIP room as the VIP rule says
    (the CRM's `vip` is the routing rules' `platinum`); the lobby console's list shows both reasons."""
    _engine, factory = migrated
    gold_card, vip_card, stranger_card = "6228481111000001", "6228481111000002", "6228481111000099"
    with factory() as s, s.begin():
        _customer(s, 1, gold_card, "50k-500k")
        _customer(s, 2, vip_card, "500k-6m")
    vip_visit = "v-vip-0001"
    events = [*_ticket_request("req-gold-01", "card", "v-gold-0001", gold_card),
              *_ticket_request("req-stranger-01", "card", "v-stranger-01", stranger_card),
              _event("visit", {"visit_id": vip_visit, "phase": "start"}),
              _event("card_read", {"card_kind": "bank", "card_hash": keyed_hash(vip_card, KEY),
                                   "masked": "622848******0002", "visit_id": vip_visit})]
    with factory() as s, s.begin():
        store_batch(s, events, now=MORNING)
    with factory() as s, s.begin():  # the ticket comes later in the stay, without the card
        store_batch(s, [_event("ticket_request", {"request_id": "req-vip-01", "business": "wealth",
                                                  "visit_id": vip_visit})], now=MORNING)
    with factory() as s:
        tickets = {t.request_id: t for t in s.scalars(select(Ticket))}
    gold, stranger, vip = tickets["req-gold-01"], tickets["req-stranger-01"], tickets["req-vip-01"]
    assert (gold.tier, gold.priority, gold.channel) == ("gold", "priority", "counter")
    assert [r["rule"] for r in gold.reasons] == ["gold_tier", "crm_tier"]
    assert gold.reasons[1]["en"] == "CRM tier (card): gold" and "金卡" in gold.reasons[1]["zh"]
    assert (stranger.tier, stranger.priority, [r["rule"] for r in stranger.reasons]) == ("regular", "regular",
                                                                                          ["default"])
    assert (vip.tier, vip.channel, [r["rule"] for r in vip.reasons]) == ("platinum", "vip", ["vip_tier", "crm_tier"])
    assert vip.reasons[1]["en"] == "CRM tier (recognised this visit): platinum"
    make_user("lobby", "lobby_staff")
    waiting = {w["id"]: w for w in client.get("/api/branches/b001/queue", headers=bearer(client, "lobby"))
               .json()["waiting"]}
    assert [r["en"] for r in waiting[gold.id]["reasons"]] == [
        "gold customer: priority in the business's own line", "CRM tier (card): gold"]


def test_crm_tiers_map_onto_the_routing_tiers() -> None:
    """GIVEN the CRM's tiers WHEN routed THEN standard is regular, vip is platinum, and anything unknown regular."""
    assert [routing_tier(t) for t in ("standard", "gold", "vip", "private", None, "diamond")] == [
        Tier.REGULAR, Tier.GOLD, Tier.PLATINUM, Tier.PRIVATE, Tier.REGULAR, Tier.REGULAR]
