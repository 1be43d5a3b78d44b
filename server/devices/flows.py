"""Cross-domain reactions to a device change: alarms opened and cleared, work orders, availability.

`evaluate(...)` is called with the devices whose presence or status changed in a batch (or in a
job), after their rows were updated, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.alarms.models import Alarm, AlarmType, Severity
from server.alarms.rules import (
    DEFAULT_SEVERITY,
    SERVICE_AFFECTING,
    STATUS_TYPES,
    in_maintenance,
    status_conditions,
)
from server.alarms.service import active_by_device, clear_alarm, raise_alarm
from server.devices.models import Device, OfflineCause
from server.devices.timeline import Timeline
from server.workorders.rules import NEEDS_ESCALATION
from server.workorders.service import after_alarm_cleared, order_for_alarm

_OFFLINE_DETAIL = {OfflineCause.LOST: "connection lost (last will)", OfflineCause.TIMEOUT: "no message (timeout)"}


@dataclass
class Change:
    """What happened to one device in this transaction."""

    device: Device
    status_changed: bool = False
    presence_changed: bool = False
    onset_at: datetime | None = None            # when the device went quiet (offline alarms)
    retained: list[str] = field(default_factory=list)  # components whose retain count went up
    extra: list[tuple[AlarmType, str]] = field(default_factory=list)  # event alarms to raise


def evaluate(session: Session, changes: Iterable[Change], timeline: Timeline, now: datetime) -> list[Alarm]:
    """Open, repeat or clear alarms for the changed devices; refresh their availability. Returns new alarms."""
    changes = list(changes)
    if not changes:
        return []
    active = active_by_device(session, [(c.device.branch_id, c.device.device_id) for c in changes])
    opened: list[Alarm] = []
    for c in changes:
        dev = c.device
        mine = active.get((dev.branch_id, dev.device_id), {})
        suppressed = in_maintenance(dev.maintenance_until, now)
        want: dict[AlarmType, tuple[Severity, str, str | None]] = {}
        cleared: list[Alarm] = []
        if dev.online and (c.status_changed or c.presence_changed):
            for t, cond in status_conditions(dev.status or {}).items():
                want[t] = (cond.severity, cond.detail, cond.action)
            for t in STATUS_TYPES:
                if t not in want and t.value in mine:
                    alarm = mine.pop(t.value)
                    clear_alarm(alarm, timeline, by="device", now=now)
                    cleared.append(alarm)
        if not dev.online and dev.offline_reason != OfflineCause.SHUTDOWN:
            want[AlarmType.DEVICE_OFFLINE] = (Severity.CRITICAL, _OFFLINE_DETAIL.get(dev.offline_reason or "",
                                                                                     "no connection"), None)
        elif AlarmType.DEVICE_OFFLINE.value in mine:  # back, or said a clean goodbye after all
            alarm = mine.pop(AlarmType.DEVICE_OFFLINE.value)
            clear_alarm(alarm, timeline, by="device", now=now)
            cleared.append(alarm)
        for component in c.retained:
            want[AlarmType.CARD_RETAINED] = (DEFAULT_SEVERITY[AlarmType.CARD_RETAINED], f"{component}: card retained",
                                             "clear")
        for t, detail in c.extra:
            want[t] = (DEFAULT_SEVERITY[t], detail, None)
        for t, (severity, detail, action) in want.items():
            existing = mine.get(t.value)
            if existing is None and suppressed:
                continue  # a maintenance window: the fault is expected
            repeat = existing is not None and (t in STATUS_TYPES or t is AlarmType.DEVICE_OFFLINE)
            if repeat and not (c.status_changed or c.presence_changed):
                continue
            if repeat and t is AlarmType.DEVICE_OFFLINE:
                continue  # still offline is not a new occurrence
            onset = c.onset_at if (t is AlarmType.DEVICE_OFFLINE and c.onset_at) else now
            alarm, new = raise_alarm(session, timeline, branch_id=dev.branch_id, device_id=dev.device_id,
                                     type=t, severity=severity, detail=detail, onset_at=onset, now=now,
                                     existing=existing, action=action)
            mine[t.value] = alarm
            if new:
                opened.append(alarm)
                if t not in NEEDS_ESCALATION:
                    order_for_alarm(session, timeline, alarm, now)
        for alarm in cleared:  # after the new ones: paper low → out keeps its refill order open
            after_alarm_cleared(session, timeline, alarm, now)
        refresh_availability(dev, {t for t in mine}, timeline, now)
        dev.changed_at = now
    return opened


def refresh_availability(dev: Device, active_types: set[str], timeline: Timeline, now: datetime) -> None:
    """A device serves customers when it is online, in service and free of service-affecting alarms."""
    available = bool(dev.online and dev.in_service
                      and not any(t in active_types for t in (a.value for a in SERVICE_AFFECTING)))
    if available != bool(dev.available):
        dev.available = available
        dev.changed_at = now
        timeline.add(dev.branch_id, dev.device_id, now, "service", "available" if available else "unavailable",
                     {"available": available, "online": dev.online, "in_service": dev.in_service,
                      "alarms": sorted(active_types)})


def planned(config: dict[str, Any] | None, device_id: str) -> dict[str, Any] | None:
    """The device as the branch configured it (zone, kind), if it did."""
    for d in (config or {}).get("devices", []):
        if d.get("id") == device_id:
            return d
    return None
