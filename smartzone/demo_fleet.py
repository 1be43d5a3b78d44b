"""The demo's maintenance story: kiosk k2 of b001 runs low on paper, then out; staff take the work order,
arrive and refill; the alarm clears and the order is resolved and closed. Utilisation is rolled up often."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

log = logging.getLogger(__name__)
DEVICE = "k2"
# seconds after the kiosks start → step
SCRIPT = [(4, "low"), (9, "out"), (20, "assign"), (28, "arrive"), (40, "refill"), (50, "close")]


class FleetScript:
    def __init__(self, factory, stop: threading.Event):
        self.factory, self.stop = factory, stop

    def on_links(self, links, responders) -> None:
        responder = next((r for r in responders if r.link.device == DEVICE), None)
        if responder is not None:
            threading.Thread(target=self._run, args=(responder,), name="demo-fleet", daemon=True).start()

    def _run(self, responder) -> None:
        from server.devices.scheduled import rollup_recent

        try:
            seed_history(self.factory)
        except Exception:
            log.exception("demo fleet history not seeded")

        elapsed = 0.0
        for at, step in SCRIPT:
            if self.stop.wait(max(0.0, at - elapsed)):
                return
            elapsed = at
            try:
                self._step(responder, step)
            except Exception:  # the demo goes on without its story
                log.exception("demo fleet step %s failed", step)
        while not self.stop.wait(20):
            from server.db import utcnow

            rollup_recent(self.factory, utcnow())

    def _step(self, responder, step: str) -> None:
        from server.db import utcnow
        from server.devices.scheduled import rollup_recent
        from server.devices.timeline import Timeline
        from server.workorders.models import OPEN_STATES, WorkOrder
        from server.workorders.service import transition

        if step in ("low", "out"):
            responder.paper(step)
        elif step == "refill":
            responder.paper("full")
            rollup_recent(self.factory, utcnow())
        else:
            with self.factory() as s, s.begin():
                states = ("resolved",) if step == "close" else OPEN_STATES
                order = s.scalars(select(WorkOrder).where(WorkOrder.branch_id == "b001", WorkOrder.device_id == DEVICE,
                                                          WorkOrder.status.in_(states))
                                  .order_by(WorkOrder.id.desc())).first()
                if order is not None:
                    t = Timeline()
                    transition(s, t, order, step, actor="demo-maintenance-b001", now=utcnow())
                    t.write(s)


def seed_history(factory, days: int = 3, seed: int = 11) -> None:
    """Demo only: the last few days of b001's kiosks (in service with a paper-out hour, ~12 uses an hour),
    so the utilisation charts have figures even when the demo runs while the branch is closed."""
    import random
    from datetime import timedelta

    from server.db import utcnow
    from server.devices.models import TimelineEntry, UsageSession
    from server.devices.scheduled import rollup

    rng = random.Random(seed)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days)
    with factory() as s, s.begin():
        if s.scalars(select(UsageSession.id).where(UsageSession.session_id.like("demo-%")).limit(1)).first():
            return
        for k in ("k1", "k2", "k3"):
            s.add(TimelineEntry(branch_id="b001", device_id=k, at=start, kind="service", what="available",
                                detail={"available": True, "demo": True}))
            for d in range(days):
                down = start + timedelta(days=d, hours=rng.randint(1, 7))
                s.add(TimelineEntry(branch_id="b001", device_id=k, at=down, kind="service", what="unavailable",
                                    detail={"available": False, "demo": True}))
                s.add(TimelineEntry(branch_id="b001", device_id=k, at=down + timedelta(minutes=rng.randint(20, 90)),
                                    kind="service", what="available", detail={"available": True, "demo": True}))
            t, i = start, 0
            while t < now - timedelta(hours=1):
                t += timedelta(minutes=rng.expovariate(1 / (5 if k != "k3" else 15)))
                length = timedelta(seconds=rng.randint(30, 180))
                i += 1
                s.add(UsageSession(session_id=f"demo-{k}-{i:06d}", branch_id="b001", device_id=k,
                                   function="ticket", started_at=t, ended_at=t + length,
                                   outcome="ok" if rng.random() < 0.95 else "failed"))
        s.flush()
        rollup(s, start, now)
