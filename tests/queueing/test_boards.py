"""Kiosk tickets through ingest, boards on the hub's clock: one board per burst of changes, nothing missed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.ingest.service import run_deferred, store_batch
from server.queueing import board, calling, locks
from server.queueing.models import QueueState
from tests.support import outbox
from wire.messages import QueueBoardData, TicketRequestData

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai


def request(branch: str, business: str, n: int) -> EventRecord:
    return EventRecord(id=str(uuid.uuid4()), branch=branch, device="k1", seq=n, type="ticket_request",
                       ts=MON + timedelta(seconds=n),
                       data=TicketRequestData(request_id=f"req-{branch}-{n:04d}", business=business))


def boards(factory, now: datetime) -> dict[str, QueueBoardData]:
    with factory() as s, s.begin():
        return {row.branch_id: row.data for row in board.stale_boards(s, now)}


def test_boards_follow_bursts_of_kiosk_tickets(migrated) -> None:
    """GIVEN three batches of kiosk tickets in two branches WHEN the hub's deferred work runs
    THEN each branch gets one board showing every ticket; with nothing new it sends none; a staff call
    (whose board goes out with the call) leaves nothing stale."""
    _engine, factory = migrated
    for batch in range(3):
        with factory() as s, s.begin():
            store_batch(s, [request("b001", "card", batch * 2), request("b001", "loan", batch * 2 + 1),
                            request("b002", "card", batch)], now=MON)
    first = boards(factory, MON)
    assert sorted(first) == ["b001", "b002"]
    assert first["b001"].waiting == {"card": 3, "loan": 3} and first["b002"].waiting == {"card": 3}
    assert boards(factory, MON) == {}

    with factory() as s, s.begin():
        res = calling.call_next(s, branch_id="b001", counter=1, now=MON + timedelta(minutes=1))
        assert [row.kind for row in res.outbox][-1] == "queue_board"
    assert boards(factory, MON) == {}
    with factory() as s, s.begin():
        store_batch(s, [request("b002", "card", 9)], now=MON)
        assert run_deferred(s) == 1


def ahead_in_reply(factory, request_id: str) -> int:
    with factory() as s:
        return next(r.ticket.people_ahead for r in outbox(s, "ticket_reply") if r.request_id == request_id)


def test_kept_queue_follows_other_changes_and_forgets_rolled_back_ones(migrated) -> None:
    """GIVEN the hub keeps each branch's queue between batches (its Kept) WHEN staff call a ticket in between,
    or a batch rolls back THEN the next ticket's people-ahead counts exactly the tickets really waiting."""
    _engine, factory = migrated
    kept = Kept()

    def hub_batch(events: list[EventRecord], now: datetime) -> None:
        with kept.if_committed(), factory() as s, s.begin():
            store_batch(s, events, now=now, kept=kept)

    hub_batch([request("b001", "card", 1), request("b001", "card", 2)], MON)
    assert ahead_in_reply(factory, "req-b001-0002") == 1
    with factory() as s:  # kept as committed, for the next batch to reuse
        version = s.get(QueueState, "b001").version
        assert kept.queues.get("b001", locks.branch_config(s, "b001"), version, True, MON) is not None
    with factory() as s, s.begin():  # the console, another change of the queue: one ticket leaves the line
        calling.call_next(s, branch_id="b001", counter=1, now=MON + timedelta(minutes=1))
    hub_batch([request("b001", "card", 3)], MON + timedelta(minutes=2))
    assert ahead_in_reply(factory, "req-b001-0003") == 1  # ticket 2 only: ticket 1 was called

    with pytest.raises(ConnectionError), kept.if_committed(), factory() as s, s.begin():
        store_batch(s, [request("b001", "card", 4)], now=MON + timedelta(minutes=3), kept=kept)
        raise ConnectionError("the database went away before the commit")
    with factory() as s, s.begin():  # then a staff change: the same version number the rolled-back batch had
        calling.call_next(s, branch_id="b001", counter=2, now=MON + timedelta(minutes=3))
    hub_batch([request("b001", "card", 5)], MON + timedelta(minutes=4))
    assert ahead_in_reply(factory, "req-b001-0005") == 1  # ticket 3: 2 was called, the rolled-back 4 never was
