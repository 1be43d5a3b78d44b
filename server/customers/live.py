"""Live leads for the console: `crm.lead` for leads changed anywhere (the hub creates them).

Polled by a `server.web.live.ChangePoller`; it starts with the first CRM page or API request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from server.customers.models import Customer
from server.db import utcnow
from server.referrals.models import Referral
from server.web import live


def ensure(app: Any) -> None:
    live.ensure(app, LeadPoller)


class LeadPoller(live.ChangePoller):
    name = "crm"

    def poll(self) -> int:
        from server.referrals.api import lead_view

        now = utcnow()
        n = 0
        with self.factory() as s:
            rows = s.execute(select(Referral, Customer).outerjoin(Customer, Customer.id == Referral.customer_id)
                             .where(Referral.updated_at >= self.since - self.overlap).order_by(Referral.id)).all()
            for r, c in rows:
                if not self.first_time(r.id, (r.status, r.updated_at)):
                    continue
                view = lead_view(r, c)
                self.events.publish("crm.lead", {k: (v.isoformat() if isinstance(v, datetime) else v)
                                                 for k, v in view.items()}, branch_id=r.branch_id)
                n += 1
        self.advance(now)
        return n
