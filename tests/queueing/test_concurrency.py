"""Two hub workers issuing at once on PostgreSQL: never one number twice, never two tickets for one request."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from server.db import utcnow
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.queueing.models import Ticket
from tests.support import outbox
from wire.messages import TicketRequestData


def _event(request_id: str, business: str, device: str) -> EventRecord:
    return EventRecord(str(uuid.uuid4()), "b001", device, 1, "ticket_request", utcnow(),
                       TicketRequestData(request_id=request_id, business=business))


@pytest.mark.timeout(240)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_1000_requests_no_duplicate_numbers(migrated) -> None:
    """GIVEN two workers storing batches of ticket requests concurrently (as two hub workers sharing a
    subscription do), 1,000 distinct requests, 100 of them also retried on the other worker
    WHEN all are stored THEN 1,000 tickets, all numbers distinct, and every retry answered with its ticket."""
    _engine, factory = migrated
    requests = [(f"req-conc-{i:05d}", ("card", "loan")[i % 2]) for i in range(1000)]
    retried = requests[::10]
    work = [[_event(r, b, "k1") for r, b in requests[0::2]] + [_event(r, b, "k1") for r, b in retried[1::2]],
            [_event(r, b, "k2") for r, b in requests[1::2]] + [_event(r, b, "k2") for r, b in retried[0::2]]]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(events: list[EventRecord]) -> None:
        try:
            start.wait()
            for i in range(0, len(events), 10):
                for attempt in range(5):
                    try:
                        with factory() as s, s.begin():
                            store_batch(s, events[i:i + 10])
                        break
                    except Exception as err:  # a deadlock victim retries, as the hub does
                        if "deadlock" not in str(err).lower() or attempt == 4:
                            raise
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(w,)) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(200)
    assert not errors, errors
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1000
        numbers = list(s.scalars(select(Ticket.number)))
        assert len(set(numbers)) == 1000
        per_prefix = {p: sorted(int(n[1:]) for n in numbers if n[0] == p) for p in "CD"}
        assert per_prefix["C"][-1] == 500 and per_prefix["D"][-1] == 500  # no gaps either
        replies = outbox(s, "ticket_reply")
    by_request: dict[str, set[str]] = {}
    for r in replies:
        by_request.setdefault(r.request_id, set()).add(r.ticket.number)
    assert len(by_request) == 1000 and all(len(v) == 1 for v in by_request.values())
    assert sum(1 for r in replies if r.request_id in {x for x, _ in retried}) == 200
