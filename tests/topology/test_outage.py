"""A branch whose link to the centre is cut keeps serving; afterwards the centre holds everything once."""

from __future__ import annotations

import threading
from collections import Counter

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from server.db import utcnow
from server.devices.models import Device, UsageSession
from server.events.models import Event
from server.link.models import LinkState, UplinkItem
from server.outbox.service import enqueue
from server.queueing import calling
from server.queueing.models import Ticket, TicketStep
from server.touchpoints.models import Touchpoint
from server.touchpoints.service import TOUCHPOINT_TYPES
from tests.spine.hubkit import simulate
from tests.support import wait_until
from tests.topology.kit import backlog, central_hub, edge_hub, event_ids, start_centre, start_edge
from wire import decode_hub_message

KIOSKS = 20
EVENTS = 6  # per kiosk: with birth and goodbye, 160 events per branch


def _board_versions(port: int, branch: str) -> tuple[mqtt.Client, list[int]]:
    """The lobby display's view: every queue board the edge's broker publishes."""
    seen: list[int] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"display-{branch}")
    c.on_message = lambda _c, _u, m: seen.append(decode_hub_message(m.payload).data.version)
    c.connect("127.0.0.1", port)
    c.subscribe(f"sz/v1/{branch}/queue/board", 1)
    c.loop_start()
    return c, seen


def _by_device(factory, model, branch: str, column) -> Counter:
    with factory() as s:
        return Counter(dict(s.execute(select(model.device_id, func.count(column)).where(model.branch_id == branch)
                                      .group_by(model.device_id)).all()))


@pytest.mark.postgres
def test_a_cut_branch_keeps_serving_and_the_centre_catches_up_exactly_once(tmp_path, pg_url) -> None:
    """GIVEN two branches' edges bridged to a central broker, 20 kiosks each, the centre on PostgreSQL
    WHEN b001's link is cut while its kiosks issue tickets and a teller calls them
    THEN b001 issues and calls tickets and its display updates, b002 reaches the centre meanwhile, b001's
    edge records the link as down; after the link returns the centre holds every event of both branches
    exactly once, and its touchpoints, device registry and usage sessions match the edges' event logs; every
    ticket step made at an edge is at the centre once, and its mirrored tickets (the call at b001 included)
    are as the edge holds them."""
    centre = start_centre(tmp_path, pg_url)
    edges = {b: start_edge(tmp_path, centre, b) for b in ("b001", "b002")}
    hubs = [central_hub(centre), *[edge_hub(e) for e in edges.values()]]
    display = None
    try:
        for h in hubs:
            h.start()
        b001, b002 = edges["b001"], edges["b002"]
        wait_until(lambda: _link_up(b001.factory, "b001") is True, timeout=15, message="b001's bridge up")
        b001.plug.pull()
        wait_until(lambda: _link_up(b001.factory, "b001") is False, timeout=15, message="b001 sees its link down")
        display, boards = _board_versions(b001.broker.port, "b001")

        results = {}
        runs = [threading.Thread(target=lambda b=b: results.setdefault(b, simulate(
            edges[b].broker.url, branch=b, count=KIOSKS, events=EVENTS, prefix="k", seed=int(b[1:])))) for b in edges]
        for t in runs:
            t.start()
        for t in runs:
            t.join(120)
        assert all(r.unconfirmed == 0 for r in results.values())  # every kiosk's event committed at its edge

        # b001 serves on: tickets issued at its edge, one called, the display's board follows
        with b001.factory() as s:
            issued = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.branch_id == "b001"))
        assert issued > 0
        before = max(boards, default=-1)
        with b001.factory() as s, s.begin():
            calling.set_counter(s, branch_id="b001", counter=1, open=True, now=utcnow(), staff_name="T1")
            called = calling.call_next(s, branch_id="b001", counter=1, now=utcnow(), staff_name="T1")
            enqueue(s, called.outbox)
            assert called.ticket is not None
            called_display = called.ticket.display
        wait_until(lambda: max(boards, default=-1) > before, timeout=15, message="b001's display updated")

        # b002 is unaffected; nothing of b001 reached the centre
        wait_until(lambda: set(event_ids(centre.factory, "b002")) == set(event_ids(b002.factory)), timeout=30,
                   message="b002's events at the centre")
        assert event_ids(centre.factory, "b001") == []
        with b001.factory() as s:  # one snapshot: the edge queues its own steps (events and uplink rows) meanwhile
            assert s.scalar(select(func.count()).select_from(UplinkItem)) \
                == s.scalar(select(func.count()).select_from(Event))

        b001.plug.restore()
        wait_until(lambda: backlog(b001.factory) == 0, timeout=60, message="b001's backlog confirmed by the centre")
        assert _link_up(b001.factory, "b001") is True
    finally:
        if display:
            display.loop_stop()
            display.disconnect()
        for h in reversed(hubs):
            h.stop()
        for e in edges.values():
            e.plug.stop()
            e.broker.stop()
        centre.broker.stop()

    for b, edge in edges.items():
        at_edge = event_ids(edge.factory, b)
        at_centre = event_ids(centre.factory, b)
        assert len(at_centre) == len(set(at_centre)) and set(at_centre) == set(at_edge), b
        assert set(results[b].ids) <= set(at_edge)
        with edge.factory() as s:
            log = Counter(s.scalars(select(Event.type).where(Event.branch_id == b)))
            last_seq = dict(s.execute(select(Event.device_id, func.max(Event.seq)).where(
                Event.branch_id == b, Event.type.not_in(("state", "queue_step"))).group_by(Event.device_id)).all())
            steps = s.scalar(select(func.count()).select_from(TicketStep).where(TicketStep.branch_id == b))
        with centre.factory() as s:
            touchpoints = s.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.branch_id == b))
            devices = dict(s.execute(select(Device.device_id, Device.last_seq).where(Device.branch_id == b)).all())
        assert touchpoints == sum(n for t, n in log.items() if t in TOUCHPOINT_TYPES) > 0
        assert sum(_by_device(centre.factory, UsageSession, b, UsageSession.session_id).values()) \
            == log["usage_session"] > 0
        assert set(devices) == {f"k{i + 1}" for i in range(KIOSKS)}
        assert {d: devices[d] for d in last_seq} == last_seq
        # the branch's queue: every step once at the centre, its tickets as the edge holds them
        assert log["queue_step"] == steps > 0
        with centre.factory() as s:
            assert s.scalar(select(func.count()).select_from(TicketStep).where(TicketStep.branch_id == b)) == steps
        assert _tickets(centre.factory, b) == _tickets(edge.factory, b)
    with centre.factory() as s:
        called = s.scalar(select(Ticket).where(Ticket.branch_id == "b001", Ticket.display == called_display))
        assert called.first_called_at is not None and called.counter == 1 and called.calls == 1


def _tickets(factory, branch: str) -> list[tuple]:
    with factory() as s:
        return [(t.number, t.display, str(t.status), t.counter, t.calls, t.business, t.issued_at, t.first_called_at)
                for t in s.scalars(select(Ticket).where(Ticket.branch_id == branch).order_by(Ticket.display))]


def _link_up(factory, branch: str) -> bool | None:
    with factory() as s:
        state = s.get(LinkState, branch)
        return None if state is None else state.up
