"""Live leads for the console: a poller in the server process publishes `crm.lead` for leads changed anywhere.

Leads are created by the hub (another process, or another thread with no broadcaster), so one thread per
app polls `referrals.updated_at` since its watermark (with an overlap for late commits) and publishes each
change once. It starts with the first CRM page or API request and stops when the broadcaster closes.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.customers.models import Customer
from server.db import utcnow
from server.referrals.models import Referral

log = logging.getLogger(__name__)
POLL_S = 1.0
OVERLAP = timedelta(seconds=5)
_lock = threading.Lock()


def ensure(app: Any) -> None:
    if getattr(app.state, "crm_live", None) is not None:
        return
    with _lock:
        if getattr(app.state, "crm_live", None) is None:
            poller = LeadPoller(app.state.sessions, app.state.events)
            app.state.crm_live = poller
            poller.thread.start()


class LeadPoller:
    def __init__(self, factory: Any, events: Any):
        self.factory, self.events = factory, events
        self.since = utcnow() - OVERLAP
        self.seen: dict[int, tuple[str, datetime]] = {}
        self.thread = threading.Thread(target=self.run, name="crm-live", daemon=True)

    def run(self) -> None:
        failures = 0
        while not self.events.closed:
            try:
                self.poll()
                failures = 0
            except Exception:
                failures += 1
                log.debug("crm live poll failed", exc_info=True)
                if failures > 5:
                    return
            threading.Event().wait(POLL_S)

    def poll(self) -> int:
        from server.referrals.api import lead_view

        now = utcnow()
        n = 0
        with self.factory() as s:
            rows = s.execute(select(Referral, Customer).outerjoin(Customer, Customer.id == Referral.customer_id)
                             .where(Referral.updated_at >= self.since - OVERLAP).order_by(Referral.id)).all()
            for r, c in rows:
                key = (r.status, r.updated_at)
                if self.seen.get(r.id) == key:
                    continue
                self.seen[r.id] = key
                view = lead_view(r, c)
                self.events.publish("crm.lead", {k: (v.isoformat() if isinstance(v, datetime) else v)
                                                 for k, v in view.items()}, branch_id=r.branch_id)
                n += 1
        self.since = now
        if len(self.seen) > 10_000:
            self.seen = {k: v for k, v in self.seen.items() if v[1] >= now - OVERLAP * 2}
        return n
