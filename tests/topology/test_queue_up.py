"""The branch's queue goes up: ticket steps at the edge become events, stored once at the centre, in any order.

Both sites are real databases (the edge on SQLite, the centre on SQLite and PostgreSQL); the events are handed
from the edge's uplink queue to the centre's `store_batch` as the bridge would, repeated and out of order as
several central workers may commit them. The path through brokers is in test_outage.py.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from device_hub.ingest.classify import classify
from server.devices.models import Device
from server.events.models import Event
from server.ingest.records import EventRecord
from server.ingest.service import run_deferred, store_batch
from server.link import service as link
from server.link.steps import WATERMARK
from server.queueing import calling, kpis
from server.queueing.models import Ticket, TicketStep
from smartzone.cli.compose import open_database
from szconfig.roles import Role
from tests.topology.kit import BRANCHES
from wire import ALL_DEVICE_TYPES, encode, envelope
from wire.messages import QueueStepData, QueueStepMessage, QueueTicket, TicketRequestData

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai: b001 is open


def _request(n: int, business: str) -> EventRecord:
    return EventRecord(id=str(uuid.uuid4()), branch="b001", device="k1", seq=n, type="ticket_request",
                       ts=MON + timedelta(seconds=n), data=TicketRequestData(request_id=f"req-{n:04d}",
                                                                             business=business))


def _branch_day(edge) -> None:
    """12 kiosk tickets issued by the edge hub; two counters call, recall and finish some of them."""
    for batch in range(3):
        with edge() as s, s.begin():
            store_batch(s, [_request(batch * 4 + i, ("card", "loan")[i % 2]) for i in range(4)], now=MON,
                        role=Role.EDGE)
    now = MON + timedelta(minutes=5)
    with edge() as s, s.begin():
        for counter in (1, 2):
            calling.set_counter(s, branch_id="b001", counter=counter, open=True, now=now, staff_name=f"T{counter}")
    for minute in range(6):
        now += timedelta(minutes=3)
        with edge() as s, s.begin():
            calling.call_next(s, branch_id="b001", counter=1 + minute % 2, now=now, staff_name="T")
            if minute == 2:
                calling.recall(s, branch_id="b001", counter=1, now=now + timedelta(seconds=30))


def _uplinked(edge) -> list[EventRecord]:
    with edge() as s:
        return [e for _key, e in link.pending(s, after=0, limit=10_000)]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_queue_steps_reach_the_centre_once_and_in_any_order(tmp_path, db_url) -> None:
    """GIVEN a branch day at b001's edge (tickets issued, called, recalled, finished) WHEN the edge's deferred
    work runs and its uplink is stored at the centre in shuffled batches, each delivered twice THEN the centre
    holds one `queue_step` event per step, its mirrored tickets match the edge's (status, number, times,
    calls) and so do their journeys and the queue KPIs; no device named after the edge appears in the fleet."""
    _e, edge = open_database(f"sqlite:///{tmp_path / 'edge.db'}", {"b001": BRANCHES["b001"]})
    _c, centre = open_database(db_url, BRANCHES)
    _branch_day(edge)
    with edge() as s, s.begin():
        run_deferred(s, now=MON + timedelta(hours=1), role=Role.EDGE)
    with edge() as s:
        steps = s.scalar(select(func.count()).select_from(TicketStep))
    events = _uplinked(edge)
    queue_events = [e for e in events if e.type == "queue_step"]
    assert len(queue_events) == steps > 12

    # through the wire contract and the hub's classifier, as the centre receives them
    received = [classify(f"sz/v1/b001/up/{e.device}/evt/{e.type}",
                         encode(envelope(ALL_DEVICE_TYPES[e.type], id=e.id, ts=e.ts, branch=e.branch, device=e.device,
                                         seq=e.seq, data=e.data)),
                         branches=set(BRANCHES), now=MON + timedelta(hours=1)) for e in events]
    assert all(isinstance(r, EventRecord) for r in received), [r for r in received if not isinstance(r, EventRecord)]
    rng = random.Random(14)
    batches = [received[i:i + 5] for i in range(0, len(received), 5)]
    rng.shuffle(batches)
    for batch in batches + batches[::2]:  # out of order, and half of them again
        with centre() as s, s.begin():
            store_batch(s, batch, now=MON + timedelta(hours=1), role=Role.CENTRAL)

    with centre() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "queue_step")) == steps
        assert s.scalar(select(func.count()).select_from(TicketStep)) == steps
        assert s.scalars(select(Device.device_id).where(Device.device_id == "hub")).all() == []
    assert _tickets(centre) == _tickets(edge)
    with centre() as c, edge() as e:
        at_centre = kpis.kpis(c, "b001", MON - timedelta(hours=1), MON + timedelta(hours=2))
        at_edge = kpis.kpis(e, "b001", MON - timedelta(hours=1), MON + timedelta(hours=2))
    assert at_centre == at_edge and at_centre["tickets"] == 12

    with edge() as s, s.begin():  # nothing new: nothing more goes up
        run_deferred(s, now=MON + timedelta(hours=2), role=Role.EDGE)
        assert s.get(link.CachedItem, WATERMARK).version == s.scalar(select(func.max(TicketStep.id)))
    assert len(_uplinked(edge)) == len(events)


def test_a_device_cannot_pass_off_a_queue_step() -> None:
    """GIVEN a kiosk publishing a `queue_step` on its own topic, or an edge sending one up as a kiosk WHEN the hub
    classifies it THEN it is dead-lettered: only the edge itself (device `hub`) sends queue steps, up."""
    for topic, device in (("sz/v1/b001/dev/k1/evt/queue_step", "k1"), ("sz/v1/b001/up/k1/evt/queue_step", "k1")):
        r = classify(topic, _step_message(device), branches={"b001"}, now=MON)
        assert not isinstance(r, EventRecord) and r.reason == "bad_topic"
    ok = classify("sz/v1/b001/up/hub/evt/queue_step", _step_message("hub"), branches={"b001"}, now=MON)
    assert isinstance(ok, EventRecord)


def _step_message(device: str) -> bytes:
    ticket = QueueTicket(id=1, service_day="2026-11-30", number="A001", display="A001", source="kiosk",
                         business="card", channel="counter", priority="normal", tier="regular", status="waiting",
                         issued_at=MON, queued_at=MON)
    return encode(envelope(QueueStepMessage, branch="b001", device=device, seq=1, ts=MON,
                           data=QueueStepData(step=1, action="issued", at=MON, actor="system", ticket=ticket)))


def _tickets(factory) -> list[tuple]:
    with factory() as s:
        return [(t.service_day, t.number, t.display, str(t.status), t.counter, t.calls, t.business, t.channel,
                 t.issued_at, t.first_called_at, t.called_at, t.finished_at, t.est_p50_min)
                for t in s.scalars(select(Ticket).order_by(Ticket.issued_at, Ticket.display))]
