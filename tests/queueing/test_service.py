"""The queue service on real databases (SQLite and PostgreSQL): issuing, journeys, calls, KPIs, the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.db import utcnow
from server.errors import Conflict
from server.outbox.models import OutboxMessage
from server.queueing import calling, issuing, journey, kpis, locks, tickets
from server.queueing.models import Ticket, TicketStep

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai


def test_issue_call_transfer_journey(migrated) -> None:
    """GIVEN an open branch WHEN tickets are issued, called, transferred, parked, resumed and finished THEN
    numbers run per prefix, a retry returns the same ticket, the journey keeps every step, and KPIs add up."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        a = issuing.issue(s, branch_id="b001", business="card", now=MON, request_id="req-aaaa1")
        b = issuing.issue(s, branch_id="b001", business="card", now=MON + timedelta(minutes=1))
        again = issuing.issue(s, branch_id="b001", business="card", now=MON + timedelta(minutes=2),
                              request_id="req-aaaa1")
        assert (a.ticket.display, b.ticket.display) == ("C001", "C002")
        assert not again.created and again.ticket.id == a.ticket.id
        assert b.people_ahead == 1 and b.estimate is not None
        assert a.ticket.reasons[0]["rule"] == "default"

        call = calling.call_next(s, branch_id="b001", counter=3, now=MON + timedelta(minutes=3))
        assert call.ticket.id == a.ticket.id and call.ticket.call_reason["rule"] == "regular_only"
        kinds = [o.kind for o in call.outbox]
        assert kinds == ["queue_call", "queue_board"]
        assert call.outbox[0].data.ticket == "C001" and call.outbox[0].data.counter == 3
        assert call.outbox[1].retain is True and call.outbox[1].data.current[0].ticket == "C001"

        # the card customer also needs a loan: same ticket, on to loans, at the front
        tickets.transfer(s, ticket_id=a.ticket.id, business="loan", front=True, now=MON + timedelta(minutes=9))
        t = s.get(Ticket, a.ticket.id)
        assert (t.status, t.business, t.counter) == ("transferred", "loan", None)
        nxt = calling.call_next(s, branch_id="b001", counter=3, now=MON + timedelta(minutes=10))
        assert nxt.ticket.id == a.ticket.id  # front of the line
        tickets.apply(s, action="park", ticket_id=a.ticket.id, now=MON + timedelta(minutes=11))
        tickets.apply(s, action="resume", ticket_id=a.ticket.id, now=MON + timedelta(minutes=12))
        calling.call_next(s, branch_id="b001", counter=3, now=MON + timedelta(minutes=13))
        done = calling.finish(s, branch_id="b001", counter=3, now=MON + timedelta(minutes=20))
        assert done.finished.id == a.ticket.id
        tickets.apply(s, action="no_show", ticket_id=b.ticket.id, now=MON + timedelta(minutes=21))
        steps = [x.action for x in journey.steps(s, a.ticket.id)]
        assert steps == ["issued", "called", "transferred", "called", "parked", "resumed", "called", "finished"]

        k = kpis.kpis(s, "b001", MON - timedelta(hours=1), MON + timedelta(hours=1))
        card = next(x for x in k["businesses"] if x["business"] == "card")
        loan = next(x for x in k["businesses"] if x["business"] == "loan")
        assert (card["tickets"], card["no_shows"], loan["tickets"]) == (1, 1, 1)
        assert loan["wait_avg_min"] == 3.0 and loan["service_avg_min"] == 7.0


def test_provisional_tickets_are_reconciled_and_numbers_reset(migrated) -> None:
    """GIVEN a kiosk that issued a provisional number offline WHEN its request and the follow-up arrive
    (either order) THEN one ticket, called by the number the customer holds; the next service day starts at 1."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        first = issuing.issue(s, branch_id="b001", business="loan", now=MON, request_id="req-prov-1")
        follow = issuing.issue(s, branch_id="b001", business="loan", now=MON + timedelta(seconds=5),
                               request_id="req-prov-1", provisional_number="K1-007")
        assert follow.ticket.id == first.ticket.id and follow.ticket.display == "K1-007"
        assert follow.ticket.number == "D001"
        only = issuing.issue(s, branch_id="b001", business="loan", now=MON + timedelta(minutes=1),
                             request_id="req-prov-2", provisional_number="K1-008",
                             issued_at=MON - timedelta(minutes=5))
        assert only.ticket.display == "K1-008" and only.ticket.number is None
        assert only.ticket.issued_at == MON - timedelta(minutes=5)  # keeps the place it was promised
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
        tomorrow = issuing.issue(s, branch_id="b001", business="loan", now=MON + timedelta(days=1))
        assert tomorrow.ticket.display == "D001"
        late = issuing.issue(s, branch_id="b001", business="loan",
                             now=datetime(2026, 12, 1, 15, 50, tzinfo=UTC))  # 23:50 local, the same day
        assert late.ticket.display == "D002"  # (the tests' branches open at 00:00; the reset at a later
        # opening time is numbering.service_day's, tested in test_pure)
        steps = list(s.scalars(select(TicketStep.action).where(TicketStep.ticket_id == first.ticket.id)))
        assert steps == ["issued", "reconciled"]


def test_stop_issuing_and_counters(migrated) -> None:
    """GIVEN issuing stopped THEN requests are refused (409) until re-opened; a closed counter cannot call."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        locks.set_issuing(s, branch_id="b001", issuing=False, now=MON)
        with pytest.raises(Conflict) as err:
            issuing.issue(s, branch_id="b001", business="card", now=MON)
        assert err.value.code == "issuing_stopped"
        locks.set_issuing(s, branch_id="b001", issuing=True, now=MON)
        issuing.issue(s, branch_id="b001", business="card", now=MON)
        calling.set_counter(s, branch_id="b001", counter=2, open=False, now=MON)
        with pytest.raises(Conflict) as err:
            calling.call_next(s, branch_id="b001", counter=2, now=MON)
        assert err.value.code == "counter_closed"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_drives_the_queue(client, make_user, factory) -> None:
    """GIVEN lobby staff signed in WHEN they issue, call, recall, transfer, finish through the API THEN the
    queue shows reasons and estimates, the board goes to the outbox, the public page shows nothing personal."""
    from tests.server.helpers import bearer

    make_user("lobby", "lobby_staff")
    h = bearer(client, "lobby")
    r = client.post("/api/branches/b001/tickets", json={"business": "loan", "elderly": True}, headers=h)
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["number"] == "D001" and issued["routed_to"] == "counter" and "elderly" in issued["reason"]["en"]
    client.post("/api/branches/b001/tickets", json={"business": "card"}, headers=h)
    q = client.get("/api/branches/b001/queue", headers=h).json()
    assert [w["ticket"] for w in q["waiting"]] == ["D001", "C001"]
    assert q["waiting"][1]["people_ahead"] == 1 and q["waiting"][1]["wait_p50_min"] is not None
    r = client.post("/api/branches/b001/counters/3/call-next", headers=h)
    assert r.json()["ticket"] == "C001" and r.json()["reason"]["rule"] == "regular"  # 2 regular : 1 priority
    assert client.post("/api/branches/b001/counters/3/recall", headers=h).status_code == 200
    assert client.post("/api/branches/b001/counters/2/recall", headers=h).json()["error"] == "nothing_called"
    assert client.post("/api/branches/b001/counters/3/finish", headers=h).json()["finished"] == "C001"
    assert client.post("/api/branches/b001/counters/77/call-next", headers=h).status_code == 404
    r = client.post("/api/branches/b001/counters/3/call-next", headers=h)
    assert r.json()["ticket"] == "D001" and r.json()["reason"]["rule"] == "priority_only"
    t = client.get(f"/api/tickets/{issued['ticket_id']}", headers=h).json()
    assert [j["action"] for j in t["journey"]] == ["issued", "called"]
    page = client.get(issued["status_url"])
    assert page.status_code == 200 and "D001" in page.text and "3" in page.text
    assert client.get("/t/not-a-real-token").status_code == 404
    k = client.get("/api/branches/b001/queue/kpis", params={"from": (utcnow() - timedelta(hours=1)).isoformat()},
                   headers=h)
    assert k.status_code == 200 and k.json()["tickets"] == 2
    with factory() as s:
        kinds = list(s.scalars(select(OutboxMessage.kind)))
    assert kinds.count("queue_call") == 3 and "queue_board" in kinds  # two calls and a recall


def test_counters_help_other_lines_and_take_tickets_nobody_else_can_serve(migrated) -> None:
    """GIVEN a deposit ticket in the counter line (kiosks down) and a later VIP ticket WHEN the VIP counter
    calls THEN its own VIP customer goes first and then it helps the counter line; and once the counter
    line's deposit counters (1 and 2) are closed, a deposit ticket there is the VIP counter's own, in turn."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        dep = issuing.issue(s, branch_id="b001", business="deposit", now=MON).ticket
        vip = issuing.issue(s, branch_id="b001", business="vip", now=MON + timedelta(minutes=1)).ticket
        assert (dep.channel, vip.channel) == ("counter", "vip")
        first = calling.call_next(s, branch_id="b001", counter=9, now=MON + timedelta(minutes=2)).ticket
        assert (first.id, first.call_reason["rule"]) == (vip.id, "regular_only")
        second = calling.call_next(s, branch_id="b001", counter=9, now=MON + timedelta(minutes=3)).ticket
        assert (second.id, second.call_reason["rule"]) == (dep.id, "helping")
        calling.finish(s, branch_id="b001", counter=9, now=MON + timedelta(minutes=4))

        for n in (1, 2):
            calling.set_counter(s, branch_id="b001", counter=n, open=False, now=MON + timedelta(minutes=5))
        dep2 = issuing.issue(s, branch_id="b001", business="deposit", now=MON + timedelta(minutes=5)).ticket
        vip2 = issuing.issue(s, branch_id="b001", business="vip", now=MON + timedelta(minutes=6)).ticket
        third = calling.call_next(s, branch_id="b001", counter=9, now=MON + timedelta(minutes=7)).ticket
        assert (third.id, third.call_reason["rule"]) == (dep2.id, "regular_only")
        assert calling.call_next(s, branch_id="b001", counter=9, now=MON + timedelta(minutes=8)).ticket.id == vip2.id
