"""Read models for the API and console: devices with presence and alarms, utilisation from roll-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms.models import ACTIVE, Alarm
from server.alarms.rules import in_maintenance, worst
from server.db import utcnow
from server.devices import utilisation as u
from server.devices.models import Device, DeviceCommand, TimelineEntry, UsageHour
from server.workorders.models import WorkOrder
from server.workorders.rules import durations


def device_ids(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    branches = {b for b, _ in keys}
    return {(b, d): i for i, b, d in session.execute(
        select(Device.id, Device.branch_id, Device.device_id).where(Device.branch_id.in_(branches)))
        if (b, d) in keys}


def devices(session: Session, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    rows = list(session.scalars(select(Device).where(Device.branch_id == branch_id)
                                .order_by(Device.zone, Device.device_id)))
    alarms: dict[str, list[Alarm]] = defaultdict(list)
    for a in session.scalars(select(Alarm).where(Alarm.branch_id == branch_id, Alarm.status.in_(ACTIVE))
                             .order_by(Alarm.id)):
        alarms[a.device_id].append(a)
    return [device_out(d, alarms.get(d.device_id, []), now) for d in rows]


def device_out(d: Device, alarms: list[Alarm], now: datetime) -> dict[str, Any]:
    if in_maintenance(d.maintenance_until, now):
        presence = "maintenance"
    elif d.online:
        presence = "online"
    else:
        presence = "offline" if d.last_seen_at else "never_seen"
    model = d.paper_model or {}
    return {
        "id": d.id, "branch_id": d.branch_id, "device": d.device_id, "zone": d.zone, "kind": d.kind,
        "model": d.model, "serial": d.serial, "sw": d.sw, "components": list(d.components or []),
        "online": bool(d.online), "available": bool(d.available), "in_service": bool(d.in_service),
        "presence": presence, "last_seen_at": d.last_seen_at, "presence_changed_at": d.presence_changed_at,
        "status": dict(d.status or {}), "seq_gaps": d.seq_gaps or 0, "session": d.session or 0,
        "maintenance_until": d.maintenance_until if presence == "maintenance" else None,
        "maintenance_reason": d.maintenance_reason if presence == "maintenance" else None,
        "receipts_since_refill": d.receipts_since_refill or 0, "paper_runs_out_at": d.paper_out_at,
        "paper_low_at": d.paper_low_at, "offline_reason": None if d.online else d.offline_reason,
        "paper_roll": {"to_low": model.get("to_low"), "to_out": model.get("to_out"), "rolls": model.get("rolls", 0),
                       "learned": bool(model.get("learned_out"))} if model else None,
        "alarms": [{"id": a.id, "type": a.type, "severity": a.severity, "status": a.status} for a in alarms],
        "worst_severity": worst([a.severity for a in alarms]),
    }


def alarm_out(a: Alarm, pk: int | None) -> dict[str, Any]:
    return {"id": a.id, "branch_id": a.branch_id, "device": a.device_id, "device_pk": pk, "type": a.type,
            "severity": a.severity, "status": a.status, "detail": a.detail, "onset_at": a.onset_at,
            "started_at": a.started_at, "last_at": a.last_at, "occurrences": a.occurrences, "acked_at": a.acked_at,
            "acked_by": a.acked_by, "cleared_at": a.cleared_at, "cleared_by": a.cleared_by,
            "escalation_level": a.escalation_level, "work_order_id": a.work_order_id, "action": a.action,
            "comments": list(a.comments or [])}


def work_order_out(o: WorkOrder, pk: int | None) -> dict[str, Any]:
    return {"id": o.id, "branch_id": o.branch_id, "device": o.device_id, "device_pk": pk, "team": o.team,
            "task": o.task, "status": o.status, "reason": o.reason, "alarm_id": o.alarm_id,
            "opened_at": o.opened_at, "assignee": o.assignee, "assigned_at": o.assigned_at,
            "severity": o.severity, "due_at": o.due_at, "breached_at": o.breached_at,
            "arrived_at": o.arrived_at, "resolved_at": o.resolved_at, "resolved_by": o.resolved_by,
            "closed_at": o.closed_at, "note": o.note,
            **durations(opened_at=o.opened_at, assigned_at=o.assigned_at, arrived_at=o.arrived_at,
                        resolved_at=o.resolved_at)}


def command_out(c: DeviceCommand) -> dict[str, Any]:
    return {"id": c.id, "command_id": c.command_id, "branch_id": c.branch_id, "device": c.device_id, "name": c.name,
            "args": dict(c.args or {}), "status": c.status, "requested_by": c.requested_by,
            "created_at": c.created_at, "expires_at": c.expires_at, "sent_at": c.sent_at, "result_at": c.result_at,
            "detail": c.detail}


def timeline(session: Session, branch_id: str, device_id: str, limit: int = 200) -> list[TimelineEntry]:
    return list(session.scalars(select(TimelineEntry).where(
        TimelineEntry.branch_id == branch_id, TimelineEntry.device_id == device_id)
        .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc()).limit(limit)))


def _figures(f: u.Usage) -> dict[str, Any]:
    return {"open_s": round(f.open_s, 1), "available_s": round(f.available_s, 1), "busy_s": round(f.busy_s, 1),
            "sessions": f.sessions, "failed": f.failed, "availability": f.availability,
            "utilisation": f.utilisation}


def _usage(h: UsageHour) -> u.Usage:
    return u.Usage(h.open_s, h.available_s, h.busy_s, h.sessions, h.failed)


def _mttr(session: Session, branch_id: str, start: datetime, end: datetime,
          device_id: str | None = None) -> dict[str, Any]:
    stmt = select(Alarm.onset_at, Alarm.started_at, Alarm.acked_at, Alarm.cleared_at).where(
        Alarm.branch_id == branch_id, Alarm.started_at >= start, Alarm.started_at < end)
    if device_id is not None:
        stmt = stmt.where(Alarm.device_id == device_id)
    rows = [tuple(r) for r in session.execute(stmt)]
    return {**u.mttr(rows), "alarms": len(rows)}


def _hours(session: Session, branch_id: str, start: datetime, end: datetime,
           device_id: str | None = None) -> list[UsageHour]:
    stmt = select(UsageHour).where(UsageHour.branch_id == branch_id, UsageHour.hour >= start, UsageHour.hour < end)
    if device_id is not None:
        stmt = stmt.where(UsageHour.device_id == device_id)
    return list(session.scalars(stmt.order_by(UsageHour.hour)))


def _by_day(hours: list[UsageHour], tz: str) -> list[dict[str, Any]]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    days: dict[datetime, list[u.Usage]] = defaultdict(list)
    for h in hours:
        local = h.hour.astimezone(zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        days[day].append(_usage(h))
    return [{"hour": d, **_figures(u.add(v))} for d, v in sorted(days.items())]


def device_utilisation(session: Session, dev: Device, tz: str, start: datetime, end: datetime) -> dict[str, Any]:
    hours = _hours(session, dev.branch_id, start, end, dev.device_id)
    return {"device": dev.device_id, "branch_id": dev.branch_id, "start": start, "end": end,
            "total": _figures(u.add(_usage(h) for h in hours)),
            "hours": [{"hour": h.hour, **_figures(_usage(h))} for h in hours],
            "days": _by_day(hours, tz), "mttr": _mttr(session, dev.branch_id, start, end, dev.device_id)}


def repairs(session: Session, branch_id: str, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """MTTR by team and type of work: work orders opened in [start, end), mean seconds from opening to taken,
    on site and fixed, and how many were (or are) late against their due time."""
    groups: dict[tuple[str, str], list[WorkOrder]] = defaultdict(list)
    for o in session.scalars(select(WorkOrder).where(WorkOrder.branch_id == branch_id, WorkOrder.opened_at >= start,
                                                     WorkOrder.opened_at < end)):
        groups[(o.team, o.task)].append(o)
    out = []
    for (team, task), orders in sorted(groups.items()):
        steps = [durations(opened_at=o.opened_at, assigned_at=o.assigned_at, arrived_at=o.arrived_at,
                           resolved_at=o.resolved_at) for o in orders]

        def mean(key: str, steps: list[dict[str, Any]] = steps) -> float | None:
            xs = [d[key] for d in steps if d[key] is not None]
            return round(sum(xs) / len(xs), 1) if xs else None

        late = sum(1 for o in orders if o.due_at is not None and (o.resolved_at or now) > o.due_at)
        out.append({"team": team, "task": task, "orders": len(orders), "to_acknowledge_s": mean("to_acknowledge_s"),
                    "to_arrive_s": mean("to_arrive_s"), "to_fix_s": mean("to_fix_s"), "overdue": late})
    return out


def branch_utilisation(session: Session, branch_id: str, tz: str, start: datetime, end: datetime) -> dict[str, Any]:
    hours = _hours(session, branch_id, start, end)
    zones: dict[str, list[u.Usage]] = defaultdict(list)
    devs: dict[str, list[u.Usage]] = defaultdict(list)
    for h in hours:
        zones[h.zone or "-"].append(_usage(h))
        devs[h.device_id].append(_usage(h))
    return {"branch_id": branch_id, "start": start, "end": end,
            "total": _figures(u.add(_usage(h) for h in hours)),
            "zones": [{"name": z, **_figures(u.add(v))} for z, v in sorted(zones.items())],
            "devices": [{"name": d, **_figures(u.add(v))} for d, v in sorted(devs.items())],
            "days": _by_day(hours, tz), "mttr": _mttr(session, branch_id, start, end),
            "repairs": repairs(session, branch_id, start, end, utcnow())}
