"""Leads worth following, on SQLite and PostgreSQL: only with a customer (or a walk-in with a reason), one per
customer, interest and local day, routed to the customer's manager, the on-duty manager or the least loaded,
ranked, filtered, reassigned, followed up and closed with an outcome; the referrer's credit stays."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.models import Customer
from server.customers.privacy import keyed_hash
from server.customers.service import upsert_customer
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.notifications.models import OnCallShift
from server.referrals.models import LeadTask, Referral, Routing
from server.referrals.service import staff_stats
from server.touchpoints.models import Touchpoint
from tests.server.helpers import PASSWORD, bearer

KEY = "k" * 8
# 09:30 in Shanghai (b001's time zone); 16:30 UTC is already the next local day there
MORNING = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)


def _customer(s, n: int, now: datetime, *, tier: str, band: str, manager: int | None = None) -> Customer:
    row = {**demo_rows()[n % 6], "customer_id": f"LEAD{n}", "phone": "", "card_number": f"62284811110000{n:02d}",
           "tier": tier, "aum_band": band}
    c = upsert_customer(s, parse_row(row, [KEY], KEY), branch_id="b001", now=now)[0]
    c.manager_id = manager
    return c


def _event(type_: str, data: dict, at: datetime, device: str = "k1") -> EventRecord:
    return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device=device, seq=0, type=type_, ts=at, data=data)


def _stay(card: str | None, business: str, at: datetime) -> list[EventRecord]:
    """A kiosk stay: visit start, a card read when the customer has one, a ticket."""
    visit = f"v-{uuid.uuid4().hex[:10]}"
    ref = keyed_hash(card, KEY) if card else None
    out = [_event("visit", {"visit_id": visit, "phase": "start"}, at)]
    if ref:
        out.append(_event("card_read", {"card_kind": "bank", "card_hash": ref, "masked": "622848******0000",
                                        "visit_id": visit}, at))
    out.append(_event("ticket_request", {"request_id": uuid.uuid4().hex, "business": business, "visit_id": visit,
                                         "customer_ref": ref}, at))
    return out


def _staff(s, username: str, role: str) -> int:
    from server.staff.service import create_staff

    return create_staff(s, username=username, role=role, branch_ids=("b001",), password=PASSWORD)[0].id


def _store(factory, events, now) -> None:
    with factory() as s, s.begin():
        store_batch(s, events, now=now)


def _leads(factory) -> list[Referral]:
    with factory() as s:
        return list(s.scalars(select(Referral).order_by(Referral.id)))


def test_leads_only_for_customers_one_per_interest_and_local_day(migrated):
    """GIVEN a VIP, a private customer and a stranger
    WHEN the stranger asks for wealth, the VIP arrives twice for deposits and then asks for wealth, and the private
    customer reads a card and (a batch later) takes a wealth ticket in the same visit, comes back the same day and
    again after midnight in Shanghai
    THEN the stranger makes no lead; the VIP has one lead whose interest became wealth (and ranks higher); the
    private customer's ticket is theirs through the visit, and makes one lead that day and a second the next day."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        cm = _staff(s, "cm1", "customer_manager")
        vip = _customer(s, 0, MORNING, tier="vip", band="500k-6m").id
        private = _customer(s, 1, MORNING, tier="private", band="6m+").id
    cards = {vip: "6228481111000000", private: "6228481111000001"}

    _store(factory, _stay(None, "wealth", MORNING) + _stay("6228489999999999", "wealth", MORNING), MORNING)
    assert _leads(factory) == [], "nobody to follow up: an unknown card and no card make no lead"

    _store(factory, _stay(None, "wealth", MORNING) + _stay(cards[vip], "deposit", MORNING), MORNING)
    [first] = _leads(factory)  # the stranger in the same batch still makes none
    assert (first.customer_id, first.interest, first.reason, first.assigned_to) == (vip, "relationship",
                                                                                   "vip_arrival", cm)
    later = MORNING + timedelta(hours=2)
    _store(factory, _stay(cards[vip], "deposit", later) + _stay(cards[vip], "wealth", later), later)
    [upgraded] = _leads(factory)
    assert upgraded.id == first.id and upgraded.interest == "wealth" and upgraded.business == "wealth"
    assert upgraded.score > first.score

    card_first, ticket_later = _stay(cards[private], "wealth", later)[:2], _stay(None, "wealth", later)[1:]
    ticket_later[0] = replace(ticket_later[0], data=ticket_later[0].data.model_copy(  # the card read, then (a batch
        update={"visit_id": card_first[0].visit_id}))                                # later) a ticket of its visit
    _store(factory, card_first, later)
    _store(factory, ticket_later, later)
    with factory() as s:
        assert s.scalar(select(Touchpoint.customer_id).where(Touchpoint.event_id == ticket_later[0].id)) == private
    _store(factory, _stay(cards[private], "wealth", later + timedelta(hours=3)), later + timedelta(hours=3))
    assert [(r.customer_id, r.interest) for r in _leads(factory)] == [(vip, "wealth"), (private, "wealth")]
    next_day = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)  # 00:30 on the 8th in Shanghai
    _store(factory, _stay(cards[private], "wealth", next_day), next_day)
    assert [(r.customer_id, r.interest) for r in _leads(factory)] == [
        (vip, "wealth"), (private, "wealth"), (private, "wealth")]


def test_routing_own_manager_then_on_duty_then_least_loaded(migrated):
    """GIVEN three customer managers, one the own manager of a customer, and a managers' rota with one on duty
    WHEN leads are raised THEN the customer's own manager gets theirs; the others go to the on-duty manager;
    without a rota, to the customer manager with the fewest open leads; an inactive own manager is passed over."""
    from server.referrals.service import create_leads
    from server.staff.models import Staff

    _engine, factory = migrated
    with factory() as s, s.begin():
        a, b, c = (_staff(s, f"cm-{x}", "customer_manager") for x in "abc")
        owned = _customer(s, 0, MORNING, tier="gold", band="50k-500k", manager=b).id
        others = [_customer(s, n, MORNING, tier="gold", band="50k-500k").id for n in range(1, 4)]
        s.add(OnCallShift(branch_id="b001", team="managers", staff_id=c, level=1,
                          starts_at=MORNING - timedelta(hours=1), ends_at=MORNING + timedelta(hours=8),
                          created_by="test", created_at=MORNING))

    def raise_for(ids, now, interest):
        with factory() as s, s.begin():
            create_leads(s, [{"branch_id": "b001", "customer_id": i, "reason": "staff_referral", "interest": interest,
                              "referrer": "test"} for i in ids], now)

    raise_for([owned, *others[:2]], MORNING, "loan")
    got = {r.customer_id: (r.assigned_to, r.routed) for r in _leads(factory)}
    assert got[owned] == (b, Routing.OWN_MANAGER)
    assert got[others[0]] == got[others[1]] == (c, Routing.ON_DUTY)

    off_duty = MORNING + timedelta(hours=9)  # the shift is over: the least loaded (a has none, b one, c two)
    with factory() as s, s.begin():
        s.get(Staff, b).active = False
    raise_for([others[2], owned], off_duty, "insurance")
    fresh = [r for r in _leads(factory) if r.created_at == off_duty]
    assert {r.customer_id: (r.assigned_to, r.routed) for r in fresh} == {
        others[2]: (a, Routing.LEAST_LOADED), owned: (a, Routing.LEAST_LOADED)}


def test_worklist_walk_ins_reassigning_follow_ups_outcomes_and_credit(migrated):
    """GIVEN a teller, two customer managers and a branch manager, and leads of different customers and ages
    WHEN they use the API THEN a lead without a customer is refused, a walk-in without a reason too; the worklist
    is ranked (tier, AUM band, interest, waiting) and filters; a customer manager cannot take another's lead but
    the branch manager can; a follow-up is masked and done; a decline keeps its outcome; the teller keeps the
    credit for the referral whoever works it."""
    from server.app import create_app

    engine, factory = migrated
    with factory() as s, s.begin():
        teller, cm1, cm2, _bm = (_staff(s, u, r) for u, r in (("teller1", "teller"), ("cm1", "customer_manager"),
                                                             ("cm2", "customer_manager"), ("bm1", "branch_manager")))
        rich = _customer(s, 0, MORNING, tier="private", band="6m+", manager=cm1).id
        plain = _customer(s, 1, MORNING, tier="standard", band="0-50k", manager=cm2).id
        old = _customer(s, 2, MORNING, tier="standard", band="0-50k", manager=cm2).id
    with TestClient(create_app(engine=engine)) as client:
        t, c1, c2, b = (bearer(client, u) for u in ("teller1", "cm1", "cm2", "bm1"))
        refused = client.post("/api/referrals", headers=t, json={"business": "wealth"})
        assert refused.status_code == 422 and refused.json()["error"] == "customer_required"
        for body in ({"walk_in": True}, {"walk_in": True, "walk_in_reason": "   "}):
            r = client.post("/api/referrals", headers=t, json=body)
            assert r.status_code == 422 and r.json()["error"] == "walk_in_reason_required", r.text
        walk_in = client.post("/api/referrals", headers=t, json={
            "walk_in": True, "walk_in_reason": "asked about a 2m deposit, card at 13800138000 left at home",
            "interest": "wealth"})
        assert walk_in.status_code == 201 and walk_in.json()["customer_id"] is None
        assert "13800138000" not in walk_in.text  # numbers in a reason are masked (the reason is shown to staff)

        made = {}
        for cid in (plain, rich, old):
            r = client.post("/api/referrals", headers=t, json={"customer_id": cid, "interest": "wealth"})
            assert r.status_code == 201, r.text
            made[cid] = r.json()["id"]
        assert client.post("/api/referrals", headers=t, json={"customer_id": rich, "interest": "wealth"}
                           ).status_code == 409, "one lead per customer, interest and day"
        with factory() as s, s.begin():  # the old one has waited 20 minutes for a manager
            s.get(Referral, made[old]).created_at -= timedelta(minutes=20)

        ranked = client.get("/api/referrals", headers=b).json()["items"]
        assert [x["id"] for x in ranked[:3]] == [made[rich], made[old], made[plain]]
        assert ranked[1]["rank"] == ranked[1]["score"] + 20
        assert [x["id"] for x in client.get("/api/referrals", headers=c1, params={"who": "mine"}).json()["items"]] \
            == [made[rich], walk_in.json()["id"]], "the walk-in went to the least loaded (cm1, by id)"
        assert [x["id"] for x in client.get("/api/referrals", headers=b, params={"kind": "walk_in"}).json()["items"]] \
            == [walk_in.json()["id"]]
        assert [x["id"] for x in client.get("/api/referrals", headers=b, params={"tier": "private"}).json()[
            "items"]] == [made[rich]]

        taken = client.post(f"/api/referrals/{made[rich]}/assign", headers=c2, json={"staff_id": cm2})
        assert taken.status_code == 403 and taken.json()["error"] == "not_your_lead"
        assert client.post(f"/api/referrals/{made[rich]}/assign", headers=b, json={"staff_id": teller}
                           ).status_code == 422, "a teller works no leads"
        given = client.post(f"/api/referrals/{made[rich]}/assign", headers=b, json={"staff_id": cm2})
        assert given.status_code == 200 and (given.json()["assigned_to"], given.json()["routed"]) == (cm2, "manual")

        task = client.post(f"/api/referrals/{made[rich]}/tasks", headers=c2, json={
            "due_at": (MORNING + timedelta(days=1)).isoformat(), "note": "call back on 13912345678 about the fund"})
        assert task.status_code == 201 and "13912345678" not in task.text and "139****5678" in task.json()["note"]
        detail = client.get(f"/api/referrals/{made[rich]}", headers=c2).json()
        assert detail["open_tasks"] == 1 and detail["tasks"][0]["id"] == task.json()["id"]
        done = client.post(f"/api/referrals/{made[rich]}/tasks/{task.json()['id']}/done", headers=c2)
        assert done.status_code == 200 and done.json()["done_by"] == cm2
        assert client.post(f"/api/referrals/{made[rich]}/tasks/{task.json()['id']}/done", headers=c2
                           ).status_code == 409

        assert client.post(f"/api/referrals/{made[rich]}/accept", headers=c2).status_code == 200
        assert client.post(f"/api/referrals/{made[rich]}/convert", headers=c2,
                           json={"product": "fund", "value": 500000}).json()["outcome"] == "converted"
        declined = client.post(f"/api/referrals/{made[plain]}/decline", headers=c2,
                               json={"outcome": "not_interested"})
        assert declined.json()["status"] == "declined" and declined.json()["outcome"] == "not_interested"
        assert client.post(f"/api/referrals/{made[old]}/decline", headers=c2, json={"outcome": "converted"}
                           ).status_code == 422
        closed = client.get("/api/referrals", headers=b, params={"status": "converted"}).json()["items"]
        assert [x["id"] for x in closed] == [made[rich]]

    with factory() as s:
        assert s.scalar(select(func.count()).select_from(LeadTask)) == 1
        credit = {x["staff_id"]: x for x in staff_stats(s, branch_id="b001", since=MORNING - timedelta(days=1),
                                                        until=datetime.now(UTC) + timedelta(hours=1))}
        assert credit[teller]["made"] == 4, "every referral the teller made stays theirs"
        assert (credit[cm2]["converted"], credit[cm2]["value"]) == (1, 500000.0)
