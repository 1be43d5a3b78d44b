"""The `workorders.due` job: an order not resolved by its due time is notified, once, to its team's rota."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.branches.models import Branch
from server.db import transaction
from server.devices.queries import device_ids
from server.devices.timeline import Timeline
from server.notifications import texts
from server.notifications.service import notify
from server.workorders.models import OPEN_STATES, WorkOrder


def notify_overdue(factory: sessionmaker[Session], now: datetime) -> int:
    with transaction(factory) as s:
        return breach_overdue(s, now)


def breach_overdue(session: Session, now: datetime) -> int:
    """Mark open orders past their due time breached and tell the team (first and second on call)."""
    late = list(session.scalars(select(WorkOrder).where(
        WorkOrder.status.in_(OPEN_STATES), WorkOrder.due_at <= now, WorkOrder.breached_at.is_(None))
        .order_by(WorkOrder.id).with_for_update()))
    if not late:
        return 0
    zones = dict(session.execute(select(Branch.id, Branch.timezone).where(
        Branch.id.in_({o.branch_id for o in late}))).tuples().all())
    pks = device_ids(session, {(o.branch_id, o.device_id) for o in late})
    timeline = Timeline()
    for o in late:
        o.breached_at, o.updated_at = now, now
        timeline.add(o.branch_id, o.device_id, now, "work_order", "overdue",
                     {"work_order": o.id, "due_at": o.due_at.isoformat(), "assignee": o.assignee})
        notify(session, texts.work_order_due(
            order_id=o.id, branch_id=o.branch_id, device_id=o.device_id, device_pk=pks.get((o.branch_id, o.device_id)),
            task=o.task, team=o.team, severity=o.severity, due_at=o.due_at, assignee=o.assignee,
            tz=zones.get(o.branch_id) or "UTC"), now)
    timeline.write(session)
    return len(late)
