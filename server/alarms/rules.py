"""Pure alarm rules: which conditions a device's component status raises, and the alarm lifecycle.

Condition table (component status → alarm type, severity):

| component | field / value                         | alarm            | severity |
|-----------|---------------------------------------|------------------|----------|
| (device)  | offline (will or inactivity timeout)  | DEVICE_OFFLINE   | CRITICAL |
| printer   | paper `low`                           | PAPER_LOW        | WARNING  |
| printer   | paper `out`                           | PAPER_OUT        | MAJOR    |
| printer   | paper `jammed`                        | MEDIA_JAMMED     | MAJOR    |
| any reader| media `jammed`                        | MEDIA_JAMMED     | MAJOR    |
| any reader| retain bin `high` / `full`            | RETAIN_BIN_HIGH / RETAIN_BIN_FULL | WARNING / MAJOR |
| any reader| retain_count went up                  | CARD_RETAINED    | MINOR    |
| camera    | device not `online`/`deviceBusy`      | CAMERA_INOP      | MINOR    |
| other     | device `hardwareError`                | HARDWARE_ERROR   | CRITICAL (kiosk, card reader) / MAJOR |
| (device)  | ≥ 5 error events in 10 minutes        | HIGH_ERROR_RATE  | MINOR    |

Status-derived alarms clear when the device reports the condition gone. CARD_RETAINED and
HIGH_ERROR_RATE are events, not states: a work order's resolution (or a quiet error window) clears them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.alarms.models import AlarmStatus, AlarmType, Severity

# status-derived types: present in the evaluation or cleared
STATUS_TYPES = frozenset({AlarmType.PAPER_LOW, AlarmType.PAPER_OUT, AlarmType.MEDIA_JAMMED,
                          AlarmType.RETAIN_BIN_HIGH, AlarmType.RETAIN_BIN_FULL, AlarmType.HARDWARE_ERROR,
                          AlarmType.CAMERA_INOP})
# an active alarm of these types takes the device out of service (it cannot serve a customer)
SERVICE_AFFECTING = frozenset({AlarmType.DEVICE_OFFLINE, AlarmType.PAPER_OUT, AlarmType.MEDIA_JAMMED,
                               AlarmType.HARDWARE_ERROR, AlarmType.RETAIN_BIN_FULL})
DEFAULT_SEVERITY = {
    AlarmType.DEVICE_OFFLINE: Severity.CRITICAL, AlarmType.PAPER_LOW: Severity.WARNING,
    AlarmType.PAPER_OUT: Severity.MAJOR, AlarmType.MEDIA_JAMMED: Severity.MAJOR,
    AlarmType.CARD_RETAINED: Severity.MINOR, AlarmType.RETAIN_BIN_HIGH: Severity.WARNING,
    AlarmType.RETAIN_BIN_FULL: Severity.MAJOR, AlarmType.HARDWARE_ERROR: Severity.MAJOR,
    AlarmType.CAMERA_INOP: Severity.MINOR, AlarmType.HIGH_ERROR_RATE: Severity.MINOR,
}
SEVERITY_ORDER = [Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING]
ERROR_RATE_WINDOW = timedelta(minutes=10)
ERROR_RATE_LIMIT = 5
_CAMERA_OK = {"online", "deviceBusy"}


@dataclass(frozen=True)
class Condition:
    type: AlarmType
    severity: Severity
    detail: str
    action: str | None = None  # the XFS4IoT error action the component reported (decides the team)


def status_conditions(status: dict[str, dict[str, Any]]) -> dict[AlarmType, Condition]:
    """The alarm conditions a device's current component status raises (one per type, worst wins)."""
    found: dict[AlarmType, Condition] = {}

    for component, s in sorted(status.items()):
        def add(t: AlarmType, component: str, what: str, severity: Severity | None = None,
                action: str | None = s.get("action")) -> None:
            sev = severity or DEFAULT_SEVERITY[t]
            old = found.get(t)
            if old is None or SEVERITY_ORDER.index(sev) < SEVERITY_ORDER.index(old.severity):
                found[t] = Condition(t, sev, f"{component}: {what}", action)

        device_state = s.get("device")
        if component == "camera":
            if device_state and device_state not in _CAMERA_OK:
                add(AlarmType.CAMERA_INOP, component, device_state)
            continue
        if device_state == "hardwareError":
            sev = Severity.CRITICAL if component in ("kiosk", "cardReader") else Severity.MAJOR
            add(AlarmType.HARDWARE_ERROR, component, s.get("detail") or "hardwareError", sev)
        paper = s.get("paper")
        if paper == "low":
            add(AlarmType.PAPER_LOW, component, "paper low")
        elif paper == "out":
            add(AlarmType.PAPER_OUT, component, "paper out")
        elif paper == "jammed":
            add(AlarmType.MEDIA_JAMMED, component, "paper jammed")
        if s.get("media") == "jammed":
            add(AlarmType.MEDIA_JAMMED, component, "card jammed")
        bin_state = s.get("retain_bin")
        if bin_state == "high":
            add(AlarmType.RETAIN_BIN_HIGH, component, "retain bin nearly full")
        elif bin_state == "full":
            add(AlarmType.RETAIN_BIN_FULL, component, "retain bin full")
    return found


def card_retained(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """A card was kept by the reader: its retain counter went up."""
    old = (before or {}).get("retain_count")
    new = after.get("retain_count")
    return new is not None and old is not None and new > old


def acknowledge(status: AlarmStatus) -> AlarmStatus:
    """ACTIVE_UNACK → ACTIVE_ACK, CLEARED_UNACK → CLEARED_ACK; acknowledging again changes nothing."""
    return {AlarmStatus.ACTIVE_UNACK: AlarmStatus.ACTIVE_ACK,
            AlarmStatus.CLEARED_UNACK: AlarmStatus.CLEARED_ACK}.get(status, status)


def clear(status: AlarmStatus) -> AlarmStatus:
    """ACTIVE_UNACK → CLEARED_UNACK, ACTIVE_ACK → CLEARED_ACK; a cleared alarm stays cleared."""
    return {AlarmStatus.ACTIVE_UNACK: AlarmStatus.CLEARED_UNACK,
            AlarmStatus.ACTIVE_ACK: AlarmStatus.CLEARED_ACK}.get(status, status)


def is_active(status: str) -> bool:
    return status in (AlarmStatus.ACTIVE_UNACK, AlarmStatus.ACTIVE_ACK)


def escalation_due(*, status: str, started_at: datetime, escalated_at: datetime | None, level: int,
                   now: datetime, after: timedelta) -> bool:
    """Unacknowledged for `after` (and again every `after` since the last escalation, up to level 3)."""
    if status != AlarmStatus.ACTIVE_UNACK or level >= 3:
        return False
    since = escalated_at or started_at
    return now - since >= after


def in_maintenance(maintenance_until: datetime | None, now: datetime) -> bool:
    return maintenance_until is not None and maintenance_until > now


def worst(severities: list[str]) -> str | None:
    present = [s for s in SEVERITY_ORDER if s in severities]
    return present[0].value if present else None
