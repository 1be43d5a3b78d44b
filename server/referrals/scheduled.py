"""Referral jobs: SLA escalation (every minute) and expiry of leads past the conversion window (nightly)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.audit import service as audit
from server.branches.models import Branch
from server.db import transaction
from server.notifications import texts
from server.notifications.service import notify
from server.outbox.service import enqueue
from server.referrals import service

log = logging.getLogger(__name__)


def escalate_leads(factory: sessionmaker[Session], now: datetime) -> int:
    """Leads not accepted within the SLA while the customer is in the branch go to the branch manager."""
    with transaction(factory) as s:
        rows = service.escalate_overdue(s, now)
        enqueue(s, rows)
        zones = dict(s.execute(select(Branch.id, Branch.timezone)).tuples().all()) if rows else {}
        for r in rows:
            audit.record(s, actor=audit.SYSTEM, action="referral.escalate", object_type="referral",
                         object_id=r.data.lead_id, branch_id=r.branch_id,
                         detail={"escalated_to": r.data.escalated_to})
            lead = r.data  # the managers' rota and the branch manager it went to are told
            notify(s, texts.lead_sla(lead_id=lead.lead_id, branch_id=r.branch_id, tier=lead.tier,
                                     sla_due_at=lead.sla_due_at, escalated_to=lead.escalated_to,
                                     tz=zones.get(r.branch_id) or "UTC"), now)
    if rows:
        log.info("escalated %d overdue leads", len(rows))
    return len(rows)


def expire_leads(factory: sessionmaker[Session], now: datetime) -> int:
    with transaction(factory) as s:
        return service.expire_stale(s, now)
