"""API shapes of the fleet: devices, alarms, work orders, commands, utilisation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from server.devices.commands import CommandName
from server.web.validation import STRICT, Text100, text
from wire.messages import CommandArgs


class AlarmBrief(BaseModel):
    id: int
    type: str
    severity: str
    status: str


class PaperRollOut(BaseModel):
    to_low: float | None = Field(description="receipts from a refill until `low` (median of finished rolls)")
    to_out: float | None = Field(description="receipts until `out`: learned, else the configured capacity")
    rolls: int = Field(description="finished rolls learned from")
    learned: bool = Field(description="to_out was learned from this printer's rolls")


class DeviceOut(BaseModel):
    id: int
    branch_id: str
    device: str
    zone: str | None
    kind: str | None
    model: str | None
    serial: str | None
    sw: str | None
    components: list[str]
    online: bool
    available: bool
    in_service: bool
    presence: str = Field(description="online | offline | never_seen | maintenance")
    last_seen_at: datetime | None
    presence_changed_at: datetime | None
    status: dict[str, dict[str, Any]] = Field(description="current status per component (XFS4IoT-style)")
    seq_gaps: int
    session: int
    maintenance_until: datetime | None
    maintenance_reason: str | None
    receipts_since_refill: int
    paper_runs_out_at: datetime | None = Field(default=None, description="forecast: the roll runs out")
    paper_low_at: datetime | None = Field(default=None, description="forecast: the near-end sensor says low")
    paper_roll: PaperRollOut | None = Field(default=None, description="what the forecast learned of the rolls")
    offline_reason: str | None = Field(default=None, description="while offline: shutdown | lost | timeout")
    alarms: list[AlarmBrief]
    worst_severity: str | None


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    what: str
    detail: dict[str, Any]


class Comment(BaseModel):
    at: str
    by: str
    text: str


class AlarmOut(BaseModel):
    id: int
    branch_id: str
    device: str
    device_pk: int | None
    type: str
    severity: str
    status: str
    detail: str | None
    onset_at: datetime
    started_at: datetime
    last_at: datetime
    occurrences: int
    acked_at: datetime | None
    acked_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    escalation_level: int
    work_order_id: int | None
    action: str | None = Field(default=None, description="XFS4IoT error action reported: clear | maintenance | …")
    comments: list[Comment]


class AckIn(BaseModel):
    model_config = STRICT
    comment: text(500) | None = None  # type: ignore[valid-type]


class CommentIn(BaseModel):
    model_config = STRICT
    text: text(500, 1)  # type: ignore[valid-type]


class WorkOrderOut(BaseModel):
    id: int
    branch_id: str
    device: str
    device_pk: int | None
    team: str
    task: str
    status: str
    reason: str
    alarm_id: int | None
    opened_at: datetime
    assignee: str | None = Field(description="who fixes it: the on-call person when it opened, or who took it")
    assigned_at: datetime | None
    severity: str | None = None
    due_at: datetime | None = Field(default=None, description="fixed by then (by task and severity)")
    breached_at: datetime | None = Field(default=None, description="when its lateness was notified")
    arrived_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    closed_at: datetime | None
    note: str | None
    to_acknowledge_s: float | None
    to_arrive_s: float | None
    to_fix_s: float | None


class WorkOrderActionIn(BaseModel):
    model_config = STRICT
    assignee: Text100 | None = None
    note: text(500) | None = None  # type: ignore[valid-type]


class CommandIn(BaseModel):
    model_config = STRICT
    name: CommandName
    ttl_s: Annotated[int, Field(ge=5, le=86_400)] = 300
    args: CommandArgs = Field(default_factory=dict, max_length=8)


class CommandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    command_id: str
    branch_id: str
    device: str
    name: str
    args: dict[str, Any]
    status: str
    requested_by: str
    created_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    result_at: datetime | None
    detail: str | None


class MaintenanceIn(BaseModel):
    model_config = STRICT
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60, description="0 ends the window")]
    reason: Text100 | None = None


class Figures(BaseModel):
    open_s: float
    available_s: float
    busy_s: float
    sessions: int
    failed: int
    availability: float | None
    utilisation: float | None


class HourFigures(Figures):
    hour: datetime


class Mttr(BaseModel):
    detect_s: float | None
    acknowledge_s: float | None
    fix_s: float | None
    alarms: int


class DeviceUtilisation(BaseModel):
    device: str
    branch_id: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    total: Figures
    hours: list[HourFigures]
    days: list[HourFigures]
    mttr: Mttr


class NamedFigures(Figures):
    name: str


class Repairs(BaseModel):
    team: str
    task: str
    orders: int
    to_acknowledge_s: float | None
    to_arrive_s: float | None
    to_fix_s: float | None
    overdue: int = Field(description="orders resolved after their due time, or open past it")


class BranchUtilisation(BaseModel):
    branch_id: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    total: Figures
    zones: list[NamedFigures]
    devices: list[NamedFigures]
    days: list[HourFigures]
    mttr: Mttr
    repairs: list[Repairs] = Field(default_factory=list, description="MTTR by team and type of work")
