"""Open, repeat, acknowledge, comment and clear alarms; every change goes on the device's timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.alarms.models import ACTIVE, Alarm, AlarmStatus, AlarmType, Severity
from server.alarms.rules import SEVERITY_ORDER, acknowledge, clear
from server.devices.timeline import Timeline

Key = tuple[str, str]


def active_by_device(session: Session, keys: Iterable[Key]) -> dict[Key, dict[str, Alarm]]:
    keys = sorted(set(keys))
    out: dict[Key, dict[str, Alarm]] = defaultdict(dict)
    if not keys:
        return out
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        stmt = select(Alarm).where(tuple_(Alarm.branch_id, Alarm.device_id).in_(chunk), Alarm.status.in_(ACTIVE))
        for a in session.scalars(stmt):
            out[(a.branch_id, a.device_id)][a.type] = a
    return out


def raise_alarm(session: Session, timeline: Timeline, *, branch_id: str, device_id: str, type: AlarmType,
                severity: Severity, detail: str, onset_at: datetime, now: datetime,
                existing: Alarm | None, action: str | None = None) -> tuple[Alarm, bool]:
    """Open the alarm, or (one active per device and type) update the one already open. True if new."""
    if existing is not None:
        existing.last_at = now
        existing.occurrences += 1
        existing.detail = detail[:200]
        existing.action = action or existing.action
        if SEVERITY_ORDER.index(Severity(severity)) < SEVERITY_ORDER.index(Severity(existing.severity)):
            existing.severity = severity.value
        existing.updated_at = now
        return existing, False
    alarm = Alarm(active_key=f"{branch_id}/{device_id}/{type.value}", branch_id=branch_id, device_id=device_id,
                  type=type.value, severity=severity.value, status=AlarmStatus.ACTIVE_UNACK.value,
                  detail=detail[:200], onset_at=min(onset_at, now), started_at=now, last_at=now, occurrences=1,
                  escalation_level=0, comments=[], updated_at=now, action=action)
    session.add(alarm)
    session.flush()
    timeline.add(branch_id, device_id, now, "alarm", "opened",
                 {"alarm": alarm.id, "type": type.value, "severity": severity.value, "detail": detail[:200]})
    return alarm, True


def clear_alarm(alarm: Alarm, timeline: Timeline, *, by: str, now: datetime) -> None:
    alarm.status = clear(AlarmStatus(alarm.status)).value
    alarm.active_key = None
    alarm.cleared_at = now
    alarm.cleared_by = by[:64]
    alarm.updated_at = now
    timeline.add(alarm.branch_id, alarm.device_id, now, "alarm", "cleared",
                 {"alarm": alarm.id, "type": alarm.type, "by": by})


def ack_alarm(alarm: Alarm, timeline: Timeline, *, actor: str, now: datetime, comment: str | None = None) -> bool:
    """Acknowledge (idempotent); returns whether anything changed."""
    changed = False
    new = acknowledge(AlarmStatus(alarm.status)).value
    if new != alarm.status:
        alarm.status = new
        alarm.acked_at = now
        alarm.acked_by = actor[:64]
        changed = True
        timeline.add(alarm.branch_id, alarm.device_id, now, "alarm", "acknowledged",
                     {"alarm": alarm.id, "type": alarm.type, "by": actor})
    if comment:
        add_comment(alarm, actor=actor, text=comment, now=now)
        changed = True
    if changed:
        alarm.updated_at = now
    return changed


def add_comment(alarm: Alarm, *, actor: str, text: str, now: datetime) -> None:
    alarm.comments = [*(alarm.comments or []), {"at": now.isoformat(), "by": actor, "text": text[:500]}]
    alarm.updated_at = now
