"""Pure work-order rules: which team fixes which alarm, and the order's state machine."""

from __future__ import annotations

from datetime import datetime

from server.alarms.models import AlarmType
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

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[WorkOrderStatus], WorkOrderStatus]] = {
    "assign": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED}), WorkOrderStatus.ASSIGNED),
    "arrive": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED}), WorkOrderStatus.ON_SITE),
    "resolve": (frozenset({WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED, WorkOrderStatus.ON_SITE}),
                WorkOrderStatus.RESOLVED),
    "close": (frozenset({WorkOrderStatus.RESOLVED}), WorkOrderStatus.CLOSED),
}


class WorkOrderTransitionError(ValueError):
    """That step is not allowed from the order's current state."""


def next_status(current: str, action: str) -> WorkOrderStatus:
    allowed, target = TRANSITIONS[action]
    if WorkOrderStatus(current) not in allowed:
        raise WorkOrderTransitionError(
            f"cannot {action} a work order that is {current}; allowed from {sorted(s.value for s in allowed)}")
    return target


def durations(*, opened_at: datetime, assigned_at: datetime | None, arrived_at: datetime | None,
              resolved_at: datetime | None) -> dict[str, float | None]:
    """Seconds to acknowledge (assign), to arrive and to fix, each from the opening."""
    def secs(t: datetime | None) -> float | None:
        return None if t is None else round((t - opened_at).total_seconds(), 1)

    return {"to_acknowledge_s": secs(assigned_at), "to_arrive_s": secs(arrived_at), "to_fix_s": secs(resolved_at)}
