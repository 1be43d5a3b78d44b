"""Pure work-order rules: which team fixes which alarm, and the order's state machine."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.alarms.models import AlarmType, Severity
from server.errors import Conflict
from server.workorders.models import Team, WorkOrderStatus

# alarm type → (team, task); types not listed open no work order by themselves
ROUTING: dict[AlarmType, tuple[Team, str]] = {
    AlarmType.PAPER_LOW: (Team.BRANCH, "refill_paper"),
    AlarmType.PAPER_OUT: (Team.BRANCH, "refill_paper"),
    AlarmType.MEDIA_JAMMED: (Team.BRANCH, "clear_jam"),
    AlarmType.RETAIN_BIN_HIGH: (Team.BRANCH, "empty_retain_bin"),
    AlarmType.RETAIN_BIN_FULL: (Team.BRANCH, "empty_retain_bin"),
    AlarmType.CARD_RETAINED: (Team.BRANCH, "return_retained_card"),
    AlarmType.HARDWARE_ERROR: (Team.FIELD, "repair_hardware"),
    AlarmType.CAMERA_INOP: (Team.FIELD, "repair_camera"),
    AlarmType.DEVICE_OFFLINE: (Team.FIELD, "restore_device"),  # only once the offline alarm escalates
}
NEEDS_ESCALATION = frozenset({AlarmType.DEVICE_OFFLINE})

# XFS4IoT's error action says who can clear the fault: staff on site (`clear`) or an engineer (the rest)
ACTION_TEAM: dict[str, Team] = {"clear": Team.BRANCH, "maintenance": Team.FIELD, "reset": Team.FIELD,
                                "softwareError": Team.FIELD, "configuration": Team.FIELD}
# the task when the action sends the other team than the alarm type would
CROSS_TASK = {Team.BRANCH: "clear_fault", Team.FIELD: "repair_hardware"}

# minutes to fix, from the order's opening, by task and the severity of the worst alarm behind it
DUE_MIN: dict[str, dict[Severity, int]] = {
    "refill_paper": {Severity.WARNING: 120, Severity.MAJOR: 30},
    "clear_jam": {Severity.MAJOR: 30},
    "clear_fault": {Severity.CRITICAL: 30, Severity.MAJOR: 30, Severity.MINOR: 120},
    "empty_retain_bin": {Severity.WARNING: 240, Severity.MAJOR: 60},
    "return_retained_card": {Severity.MINOR: 60},
    "repair_hardware": {Severity.CRITICAL: 240, Severity.MAJOR: 480},
    "repair_camera": {Severity.MINOR: 1440},
    "restore_device": {Severity.CRITICAL: 240},
}
# tasks or severities not listed above: by team and severity
TEAM_DUE_MIN: dict[Team, dict[Severity, int]] = {
    Team.BRANCH: {Severity.CRITICAL: 30, Severity.MAJOR: 30, Severity.MINOR: 120, Severity.WARNING: 240},
    Team.FIELD: {Severity.CRITICAL: 240, Severity.MAJOR: 480, Severity.MINOR: 1440, Severity.WARNING: 2880},
}


def route(alarm_type: AlarmType, action: str | None = None) -> tuple[Team, str] | None:
    """(team, task) for an alarm: the type decides, unless its error action names the other team."""
    base = ROUTING.get(alarm_type)
    if base is None:
        return None
    team = ACTION_TEAM.get(action or "", base[0])
    return base if team is base[0] else (team, CROSS_TASK[team])


def due_in(team: str, task: str, severity: str | None) -> timedelta:
    """How long the team has to fix it."""
    sev = Severity(severity) if severity else Severity.MAJOR
    minutes = DUE_MIN.get(task, {}).get(sev) or TEAM_DUE_MIN[Team(team)][sev]
    return timedelta(minutes=minutes)

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[WorkOrderStatus], WorkOrderStatus]] = {
    "assign": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED}), WorkOrderStatus.ASSIGNED),
    "arrive": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED}), WorkOrderStatus.ON_SITE),
    "resolve": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED, WorkOrderStatus.ON_SITE}),
                WorkOrderStatus.RESOLVED),
    "close": (frozenset({WorkOrderStatus.RESOLVED}), WorkOrderStatus.CLOSED),
}


def next_status(current: str, action: str) -> WorkOrderStatus:
    """The state after `action`; Conflict when the order is not in a state that allows it."""
    allowed, target = TRANSITIONS[action]
    if WorkOrderStatus(current) not in allowed:
        raise Conflict("conflict", f"cannot {action} a work order that is {current}; "
                       f"allowed from {sorted(s.value for s in allowed)}")
    return target


def durations(*, opened_at: datetime, assigned_at: datetime | None, arrived_at: datetime | None,
              resolved_at: datetime | None) -> dict[str, float | None]:
    """Seconds to acknowledge (assign), to arrive and to fix, each from the opening."""
    def secs(t: datetime | None) -> float | None:
        return None if t is None else round((t - opened_at).total_seconds(), 1)

    return {"to_acknowledge_s": secs(assigned_at), "to_arrive_s": secs(arrived_at), "to_fix_s": secs(resolved_at)}
