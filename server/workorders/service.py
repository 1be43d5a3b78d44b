"""Open work orders for alarms that need hands, move them through their states, resolve their alarms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms.models import ACTIVE, Alarm, AlarmType
from server.alarms.service import clear_alarm
from server.devices.timeline import Timeline
from server.notifications.rota import first_on_call
from server.workorders.models import OPEN_STATES, WorkOrder, WorkOrderStatus
from server.workorders.rules import due_in, next_status, route


def open_order(session: Session, timeline: Timeline, *, branch_id: str, device_id: str, team: str, task: str,
               reason: str, now: datetime, alarm: Alarm | None = None, severity: str | None = None,
               due_by: datetime | None = None) -> tuple[WorkOrder, bool]:
    """One open order per device and task: a second alarm for the same fix joins the open order (and a worse one
    brings its due time forward). A new order is named to the team's first on-call person, if rostered."""
    severity = severity or (alarm.severity if alarm else None)
    due = now + due_in(team, task, severity)
    if due_by is not None:
        due = min(due, due_by)
    order = session.scalars(select(WorkOrder).where(
        WorkOrder.branch_id == branch_id, WorkOrder.device_id == device_id, WorkOrder.task == task,
        WorkOrder.status.in_(OPEN_STATES)).limit(1)).first()
    created = order is None
    if order is None:
        person = first_on_call(session, branch_id, team, now)
        order = WorkOrder(branch_id=branch_id, device_id=device_id, team=team, task=task,
                          status=WorkOrderStatus.OPEN.value, reason=reason[:200],
                          alarm_id=alarm.id if alarm else None, opened_at=now, updated_at=now,
                          severity=severity, due_at=due, assignee=person.username if person else None)
        session.add(order)
        session.flush()
        timeline.add(branch_id, device_id, now, "work_order", "opened",
                     {"work_order": order.id, "team": team, "task": task, "reason": reason,
                      "due_at": due.isoformat(), "assignee": order.assignee})
    else:
        if alarm is not None:
            order.alarm_id = alarm.id
        if order.due_at is None or due < order.due_at:
            order.due_at, order.severity = due, severity
        order.updated_at = now
    if alarm is not None:
        alarm.work_order_id = order.id
    return order, created


def order_for_alarm(session: Session, timeline: Timeline, alarm: Alarm, now: datetime) -> WorkOrder | None:
    found = route(AlarmType(alarm.type), alarm.action)
    if found is None:
        return None
    team, task = found
    order, _ = open_order(session, timeline, branch_id=alarm.branch_id, device_id=alarm.device_id,
                          team=team.value, task=task, reason=alarm.type, now=now, alarm=alarm)
    return order


def after_alarm_cleared(session: Session, timeline: Timeline, alarm: Alarm, now: datetime) -> None:
    """The device reports the fault gone: an order left with no active alarm is resolved by the device."""
    if alarm.work_order_id is None:
        return
    order = session.get(WorkOrder, alarm.work_order_id)
    if order is None or order.status not in OPEN_STATES:
        return
    still = session.scalars(select(Alarm.id).where(Alarm.work_order_id == order.id, Alarm.status.in_(ACTIVE),
                                                   Alarm.id != alarm.id)).first()
    if still is None:
        _resolve(order, timeline, by="device", now=now)


def _resolve(order: WorkOrder, timeline: Timeline, *, by: str, now: datetime, note: str | None = None) -> None:
    order.status = WorkOrderStatus.RESOLVED.value
    order.resolved_at = now
    order.resolved_by = by[:64]
    if note:
        order.note = note[:500]
    order.updated_at = now
    timeline.add(order.branch_id, order.device_id, now, "work_order", "resolved",
                 {"work_order": order.id, "by": by})


def transition(session: Session, timeline: Timeline, order: WorkOrder, action: str, *, actor: str, now: datetime,
               assignee: str | None = None, note: str | None = None) -> list[Alarm]:
    """Move the order (Conflict when the step is not allowed); resolving clears its alarms, which are returned."""
    target = next_status(order.status, action)
    cleared: list[Alarm] = []
    if action == "assign":
        order.assignee = (assignee or actor)[:100]
        order.assigned_at = order.assigned_at or now
    elif action == "arrive":
        order.assigned_at = order.assigned_at or now
        order.assignee = order.assignee or actor[:100]
        order.arrived_at = now
    elif action == "resolve":
        _resolve(order, timeline, by=actor, now=now, note=note)
        for alarm in session.scalars(select(Alarm).where(Alarm.work_order_id == order.id,
                                                         Alarm.status.in_(ACTIVE))):
            clear_alarm(alarm, timeline, by=f"work_order:{order.id}", now=now)
            cleared.append(alarm)
    elif action == "close":
        order.closed_at = now
    if note and action != "resolve":
        order.note = note[:500]
    order.status = target.value
    order.updated_at = now
    if action != "resolve":
        timeline.add(order.branch_id, order.device_id, now, "work_order", target.value,
                     {"work_order": order.id, "by": actor, "assignee": order.assignee})
    return cleared
