"""Live leads for the console: `crm.lead` for leads changed anywhere (the hub creates them).

Polled by a `server.web.live.ChangePoller`; it starts with the first CRM page or API request.
"""

from __future__ import annotations

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
        from server.referrals.schemas import LeadOut
        from server.referrals.views import lead_views

        now = utcnow()
        with self.factory() as s:
            rows = s.execute(select(Referral, Customer).outerjoin(Customer, Customer.id == Referral.customer_id)
                             .where(Referral.updated_at >= self.since - self.overlap).order_by(Referral.id)).all()
            changed = [(r, c) for r, c in rows if self.first_time(r.id, (r.status, r.updated_at))]
            for view in lead_views(s, changed, now):
                self.events.publish("crm.lead", LeadOut.model_validate(view).model_dump(mode="json"),
                                    branch_id=view["branch_id"])
        self.advance(now)
        return len(changed)
