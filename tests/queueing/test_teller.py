"""The teller workstation's API on real databases: counter sign-in, a teller's scope, pause with a reason, the
next-customer preview, the served customer's masked profile with leads (audited), and refusals (never a 500)."""

from __future__ import annotations

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.db import utcnow
from server.queueing.models import CounterPause, CounterState
from server.referrals.models import Referral
from tests.queueing.teller_kit import known_customer, ticket
from tests.server.helpers import bearer


def _err(r, status: int, code: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == code, r.json()


def test_sign_in_one_teller_one_counter(client, make_user, factory) -> None:
    """GIVEN two tellers and lobby staff of b001 WHEN the tellers sign in to counters THEN one teller holds one
    counter at a time: a taken counter, a second counter, an unknown counter and another branch's counter are
    refused with their codes; signing in again is harmless; the lobby console shows who is where; signing out
    frees the counter (it closes)."""
    make_user("t1", "teller")
    make_user("t2", "teller")
    make_user("lobby", "lobby_staff")
    h1, h2, hl = bearer(client, "t1"), bearer(client, "t2"), bearer(client, "lobby")

    r = client.post("/api/branches/b001/counters/3/sign-in", headers=h1)
    assert r.status_code == 200 and r.json() == {"branch": "b001", "counter": 3, "state": "open",
                                                 "teller": "t1", "pause_reason": None}
    assert client.post("/api/branches/b001/counters/3/sign-in", headers=h1).status_code == 200  # again: the same
    _err(client.post("/api/branches/b001/counters/2/sign-in", headers=h1), 409, "signed_in_elsewhere")
    _err(client.post("/api/branches/b001/counters/3/sign-in", headers=h2), 409, "counter_taken")
    _err(client.post("/api/branches/b001/counters/77/sign-in", headers=h2), 404, "unknown_counter")
    assert client.post("/api/branches/b002/counters/1/sign-in", headers=h2).status_code == 404  # not their branch
    assert client.post("/api/branches/b001/counters/2/sign-in", headers=h2).status_code == 200

    counters = {c["number"]: c for c in client.get("/api/branches/b001/queue", headers=hl).json()["counters"]}
    assert (counters[3]["teller"], counters[3]["state"]) == ("t1", "open")
    assert (counters[2]["teller"], counters[1]["teller"]) == ("t2", None)
    me = client.get("/api/me/counter", headers=h1).json()
    assert (me["signed_in"], me["counter"], me["state"]) == (True, 3, "open")

    _err(client.post("/api/branches/b001/counters/2/sign-out", headers=h1), 403, "not_your_counter")
    assert client.post("/api/branches/b001/counters/2/sign-out", headers=hl).json()["state"] == "closed"  # lobby
    assert client.post("/api/branches/b001/counters/3/sign-out", headers=h1).json()["teller"] is None
    assert client.get("/api/me/counter", headers=h1).json() == {"signed_in": False}
    _err(client.post("/api/branches/b001/counters/3/sign-out", headers=hl), 409, "not_signed_in")
    with factory() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("queue.counter_sign%"))))
    assert actions.count("queue.counter_sign_in") == 3 and actions.count("queue.counter_sign_out") == 2


def test_teller_acts_only_on_their_counter(client, make_user, factory) -> None:
    """GIVEN teller t1 at counter 3, t2 at counter 2, t3 signed in nowhere, lobby staff WHEN they act THEN a teller
    calls, finishes and moves tickets only at their own counter (403 with a code otherwise), may not stop issuing
    or issue at the desk, and cannot leave while serving; lobby staff keep the whole branch."""
    for u in ("t1", "t2", "t3"):
        make_user(u, "teller")
    make_user("lobby", "lobby_staff")
    h1, h2, h3, hl = (bearer(client, u) for u in ("t1", "t2", "t3", "lobby"))
    client.post("/api/branches/b001/counters/3/sign-in", headers=h1)
    client.post("/api/branches/b001/counters/2/sign-in", headers=h2)
    first, _ = ticket(factory, utcnow())
    ticket(factory, utcnow())

    _err(client.post("/api/branches/b001/counters/2/call-next", headers=h1), 403, "not_your_counter")
    _err(client.post("/api/branches/b001/counters/3/call-next", headers=h3), 403, "not_signed_in")
    r = client.post("/api/branches/b001/counters/3/call-next", headers=h1)
    assert r.status_code == 200 and r.json()["ticket_id"] == first
    _err(client.post(f"/api/tickets/{first}/park", headers=h2), 403, "not_your_ticket")
    _err(client.get(f"/api/tickets/{first}/customer", headers=h2), 403, "not_your_ticket")
    _err(client.post("/api/branches/b001/queue/issuing", json={"issuing": False}, headers=h1), 403,
         "not_a_counter_action")
    _err(client.post("/api/branches/b001/tickets", json={"business": "card"}, headers=h1), 403,
         "not_a_counter_action")
    _err(client.post("/api/branches/b001/counters/3/sign-out", headers=h1), 409, "counter_busy")
    _err(client.post("/api/branches/b001/counters/3/pause", json={"reason": "lunch"}, headers=h1), 409,
         "counter_busy")
    assert client.post(f"/api/tickets/{first}/park", headers=h1).json()["status"] == "parked"
    me = client.get("/api/me/counter", headers=h1).json()
    assert [p["id"] for p in me["parked"]] == [first] and me["current"] is None
    assert client.post(f"/api/tickets/{first}/resume", headers=h1).status_code == 200  # parked from their counter
    assert client.post("/api/branches/b001/counters/2/call-next", headers=hl).status_code == 200  # lobby: any
    assert client.post("/api/branches/b001/counters/1/open", headers=hl).status_code == 200
    _err(client.post("/api/branches/b001/counters/1/close", headers=h1), 403, "not_your_counter")


def test_pause_with_a_reason_and_resume(client, make_user, factory) -> None:
    """GIVEN t1 at counter 3 WHEN they pause for lunch THEN the counter is paused (not serving: call-next is refused,
    the board lists it with the reason), the pause is kept and audited; lobby staff resume it; bad reasons and
    resuming an open counter are refused with codes."""
    make_user("t1", "teller")
    make_user("lobby", "lobby_staff")
    h1, hl = bearer(client, "t1"), bearer(client, "lobby")
    client.post("/api/branches/b001/counters/3/sign-in", headers=h1)
    ticket(factory, utcnow())

    _err(client.post("/api/branches/b001/counters/3/pause", json={"reason": "nap"}, headers=h1), 422,
         "invalid_request")
    r = client.post("/api/branches/b001/counters/3/pause", json={"reason": "lunch"}, headers=h1)
    assert r.json() == {"branch": "b001", "counter": 3, "state": "paused", "teller": "t1", "pause_reason": "lunch"}
    _err(client.post("/api/branches/b001/counters/3/pause", json={"reason": "meeting"}, headers=h1), 409,
         "counter_paused")
    _err(client.post("/api/branches/b001/counters/3/call-next", headers=h1), 409, "counter_paused")
    board = client.get("/api/branches/b001/queue/board", headers=hl).json()
    assert board["paused"] == [{"counter": 3, "reason": "lunch", "text": {
        "zh": "3 号窗口暂停服务（午餐）", "en": "Counter 3 is paused (lunch break)"}}]
    counters = {c["number"]: c for c in client.get("/api/branches/b001/queue", headers=hl).json()["counters"]}
    assert (counters[3]["state"], counters[3]["open"], counters[3]["pause_reason"]) == ("paused", False, "lunch")
    me = client.get("/api/me/counter", headers=h1).json()
    assert (me["state"], me["next"]) == ("paused", None) or me["state"] == "paused"

    assert client.post("/api/branches/b001/counters/3/resume", headers=hl).json()["state"] == "open"
    _err(client.post("/api/branches/b001/counters/3/resume", headers=h1), 409, "counter_not_paused")
    assert client.get("/api/branches/b001/queue/board", headers=hl).json()["paused"] == []
    assert client.post("/api/branches/b001/counters/3/call-next", headers=h1).json()["ticket"] is not None
    with factory() as s:
        [kept] = s.scalars(select(CounterPause))
        assert (kept.counter, kept.reason, kept.ended_at is not None) == (3, "lunch", True)
        assert kept.paused_by.startswith("staff:") and kept.resumed_by != kept.paused_by
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "queue.counter_pause"))
        assert detail == {"reason": "lunch"}
        row = s.get(CounterState, ("b001", 3))
        assert row.pause_reason is None and row.open
    client.post("/api/branches/b001/counters/3/finish", headers=h1)
    r = client.post("/api/branches/b001/counters/3/pause", json={"reason": "other", "note": "call 13912345678"},
                    headers=hl)
    assert r.json()["pause_reason"] == "other"
    me = client.get("/api/me/counter", headers=h1).json()
    assert "13912345678" not in me["pause_note"] and me["pause_note"].startswith("call ")


def test_workstation_shows_next_customer_profile_and_leads(client, make_user, factory) -> None:
    """GIVEN a gold customer with a card and an open lead, whose ticket waits, and t1 at counter 3 WHEN t1 looks at
    the workstation, calls and reads the customer THEN the next customer is the policy's choice with its reason;
    after the call the profile is masked (name, tier, tags) with the open lead, the read is audited; a referral
    from the counter raises a lead; an anonymous ticket shows as not identified."""
    now = utcnow()
    cid, masked, card_hash = known_customer(factory, now)
    make_user("t1", "teller")
    h1 = bearer(client, "t1")
    client.post("/api/branches/b001/counters/3/sign-in", headers=h1)
    tid, number = ticket(factory, now, "card", customer_ref=card_hash)

    me = client.get("/api/me/counter", headers=h1).json()
    assert me["next"]["id"] == tid and me["next"]["ticket"] == number
    assert me["next"]["reason"]["rule"] and me["next"]["reason"]["zh"] and me["current"] is None
    client.post("/api/branches/b001/counters/3/call-next", headers=h1)
    me = client.get("/api/me/counter", headers=h1).json()
    assert me["current"]["id"] == tid and me["current"]["reasons"][0]["rule"] and me["current"]["call_reason"]
    assert "customer" not in me["current"]  # customer data only from the audited read

    got = client.get(f"/api/tickets/{tid}/customer", headers=h1).json()
    c = got["customer"]
    assert (c["id"], c["masked_name"], c["tier"], c["tags"]) == (cid, masked, "gold", ["wealth_prospect"])
    assert "*" in c["masked_name"] and [lead["interest"] for lead in c["leads"]] == ["wealth"]
    with factory() as s:
        read = s.scalar(select(AuditEntry).where(AuditEntry.action == "customer.read"))
        assert read.object_id == c["ref"] and read.detail == {"via": "counter", "ticket_id": tid}

    r = client.post(f"/api/tickets/{tid}/refer", json={"interest": "loan", "note": "asks about a mortgage"},
                    headers=h1)
    assert r.status_code == 201, r.text
    with factory() as s:
        lead = s.get(Referral, r.json()["lead_id"])
        assert (lead.customer_id, lead.interest, lead.reason) == (cid, "loan", "staff_referral")
    assert len(client.get(f"/api/tickets/{tid}/customer", headers=h1).json()["customer"]["leads"]) == 2

    client.post("/api/branches/b001/counters/3/finish", headers=h1)
    anon, _ = ticket(factory, utcnow(), "card")
    client.post("/api/branches/b001/counters/3/call-next", headers=h1)
    assert client.get(f"/api/tickets/{anon}/customer", headers=h1).json() == {
        "ticket_id": anon, "identified": False, "customer": None}
    _err(client.post(f"/api/tickets/{anon}/refer", json={}, headers=h1), 422, "customer_unknown")


def test_two_sign_ins_at_once_in_two_branches_leave_one(migrated, wait_until) -> None:
    """GIVEN a teller of two branches signing in at b001 counter 3 (not yet committed) WHEN the same teller signs in at
    b002 counter 1 at that moment THEN the second waits for the first and is refused (signed_in_elsewhere), never a
    500 from the unique constraint: one teller, one counter."""
    import threading

    from server.errors import Conflict
    from server.queueing import teller

    _engine, factory = migrated
    outcome: list[object] = []

    def second() -> None:
        try:
            with factory() as s, s.begin():
                teller.sign_in(s, branch_id="b002", counter=1, staff_id=7, staff_name="t7", now=utcnow())
            outcome.append("signed in")
        except Conflict as err:
            outcome.append(err.code)

    with factory() as s:
        with s.begin():  # both branches' queue rows exist before the race
            teller.sign_in(s, branch_id="b002", counter=1, staff_id=99, staff_name="x", now=utcnow())
            teller.sign_out(s, branch_id="b002", counter=1, now=utcnow(), actor="test")
        s.begin()
        teller.sign_in(s, branch_id="b001", counter=3, staff_id=7, staff_name="t7", now=utcnow())
        racer = threading.Thread(target=second)
        racer.start()
        if s.get_bind().dialect.name == "postgresql":  # see it wait on the first's locks before committing
            from sqlalchemy import text

            with factory() as watch:
                wait_until(lambda: watch.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")),
                           timeout=10, message="the second sign-in waits for the first")
        s.commit()
    racer.join(timeout=30)
    assert outcome == ["signed_in_elsewhere"]
    with factory() as s:
        assert [(r.branch_id, r.number) for r in s.scalars(select(CounterState).where(CounterState.teller_id == 7))] \
            == [("b001", 3)]
