"""A branch as configured by the bank: zones, counters, business types, devices, opening hours."""

import datetime as dt
from datetime import time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from wire.ids import Ident


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BranchKind(StrEnum):
    """自营 (run by the bank) or 代理 (run by an agent on the bank's behalf)."""

    SELF_OPERATED = "self_operated"
    AGENCY = "agency"


class Channel(StrEnum):
    """Where a business is served."""

    SELF_SERVICE = "self_service"
    COUNTER = "counter"
    WEALTH = "wealth"
    VIP = "vip"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class Text(Strict):
    """A label in both languages the product speaks."""

    zh: str = Field(min_length=1, description="Chinese (zh-CN) text")
    en: str = Field(min_length=1, description="English text")


class OpeningHours(Strict):
    weekday: Weekday = Field(description="day of the week, mon..sun")
    open: time = Field(description="opening time, local, HH:MM")
    close: time = Field(description="closing time, local, HH:MM, after `open`")

    @model_validator(mode="after")
    def _close_after_open(self) -> Self:
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class Holiday(Strict):
    date: dt.date = Field(description="a day the branch is closed, YYYY-MM-DD")
    name: Text = Field(description="shown on the kiosk's closed screen")


class DaySettings(Strict):
    """The branch's working day: holidays and when kiosks start and stop issuing."""

    holidays: list[Holiday] = Field(default_factory=list, description="days closed despite their weekday's hours")
    issue_before_open_min: int = Field(default=0, ge=0, le=120,
                                       description="kiosks issue this many minutes before opening")
    last_ticket_before_close_min: int = Field(default=15, ge=0, le=240,
                                              description="no ticket is issued in the last this-many minutes")


class Break(Strict):
    start: time = Field(description="local, HH:MM")
    end: time = Field(description="local, HH:MM, after `start`")
    reason: Text = Field(default_factory=lambda: Text(zh="午休", en="lunch"), description="shown to staff")

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class CounterShift(Strict):
    """When a counter is staffed on the given weekdays (none given: every day the branch opens)."""

    weekdays: list[Weekday] = Field(default_factory=list, description="mon..sun; empty: every opening day")
    start: time = Field(description="local, HH:MM")
    end: time = Field(description="local, HH:MM, after `start`")
    breaks: list[Break] = Field(default_factory=list, description="within the shift, e.g. a staggered lunch")

    @model_validator(mode="after")
    def _breaks_inside(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        for b in self.breaks:
            if b.start < self.start or b.end > self.end:
                raise ValueError(f"break {b.start:%H:%M}-{b.end:%H:%M} lies outside the shift "
                                 f"{self.start:%H:%M}-{self.end:%H:%M}")
        return self


class AppointmentSettings(Strict):
    """Bookable appointments: which businesses, slot length and capacity, the check-in window."""

    businesses: list[Ident] = Field(default_factory=list, description="business codes that take bookings")
    slot_min: int = Field(default=30, ge=5, le=240, description="slot length in minutes")
    capacity_per_slot: int = Field(default=2, ge=1, le=50, description="bookings per slot and business")
    early_min: int = Field(default=30, ge=0, le=240, description="check-in opens this long before the slot")
    late_min: int = Field(default=15, ge=0, le=240, description="check-in closes this long after the slot starts")
    horizon_days: int = Field(default=14, ge=1, le=90, description="how far ahead slots can be booked")


class Zone(Strict):
    id: Ident = Field(description="zone id, unique in the branch")
    name: Text
    channel: Channel = Field(description="the channel this zone serves")


class BusinessType(Strict):
    code: Ident = Field(description="business code, unique in the branch")
    name: Text
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,2}$")] = Field(
        description="ticket number prefix: one or two capital letters"
    )
    channel: Channel = Field(description="the channel that normally serves it")
    target_wait_min: int = Field(gt=0, le=240, description="target wait in minutes")
    max_wait_min: int = Field(gt=0, le=480, description="no ticket waits longer than this")
    service_min: float = Field(default=6.0, gt=0, le=240,
                               description="expected service time in minutes, until measured ones exist")

    @model_validator(mode="after")
    def _max_after_target(self) -> Self:
        if self.max_wait_min < self.target_wait_min:
            raise ValueError("max_wait_min must be at least target_wait_min")
        return self


class Counter(Strict):
    number: int = Field(gt=0, le=999, description="counter number shown to customers")
    zone: Ident = Field(description="zone id the counter stands in")
    skills: list[Ident] = Field(min_length=1, description="business codes it serves")
    shifts: list[CounterShift] = Field(default_factory=list,
                                       description="when it is staffed; empty: throughout the opening hours")


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    SENSOR = "sensor"


class PlannedDevice(Strict):
    id: Ident = Field(description="device id, unique in the branch")
    kind: DeviceKind
    zone: Ident = Field(description="zone id the device stands in")


class Tier(StrEnum):
    """A customer's tier, as the CRM knows it."""

    REGULAR = "regular"
    GOLD = "gold"
    PLATINUM = "platinum"
    PRIVATE = "private"


class PriorityClass(StrEnum):
    """Calling class: `priority` tickets are called in a ratio with regular ones, never exclusively."""

    REGULAR = "regular"
    PRIORITY = "priority"


class RuleWhen(Strict):
    """When a routing rule applies; every given condition must hold (empty lists: any)."""

    business: list[Ident] = Field(default_factory=list, description="business codes (any of)")
    business_channel: list[Channel] = Field(default_factory=list,
                                            description="the business's own channel (any of)")
    tier: list[Tier] = Field(default_factory=list, description="customer tiers (any of)")
    elderly: bool | None = Field(default=None, description="the customer asked for elderly care")
    appointment: bool | None = Field(default=None, description="the request carries an appointment")
    min_devices_free: int | None = Field(default=None, ge=0,
                                         description="at least this many self-service devices online")
    max_channel_waiting: int | None = Field(default=None, ge=0,
                                            description="at most this many waiting in the target channel")


class RoutingRule(Strict):
    """One routing rule: the first rule (in file order) whose `when` holds decides."""

    id: Ident = Field(description="rule id, unique in the branch; shown to staff")
    when: RuleWhen = Field(default_factory=RuleWhen)
    route_to: Channel | None = Field(default=None, description="channel to serve at (default: the business's)")
    priority: PriorityClass = Field(default=PriorityClass.REGULAR, description="calling class")
    reason: Text = Field(description="why, for staff; may use {devices_free}, {waiting}, {business}")


class QueueSettings(Strict):
    """Routing rules and the calling policy of the branch's queue."""

    rules: list[RoutingRule] = Field(default_factory=list, description="evaluated in order; first match wins")
    regular_per_priority: int = Field(default=2, ge=1, le=20,
                                      description="regular calls between two priority calls")
    appointment_window_min: int = Field(default=15, ge=0, le=120,
                                        description="appointments within ± this of their time go first")
    aging_fraction: float = Field(default=0.7, gt=0, le=1,
                                  description="a ticket waiting this share of its maximum is called first")
    alert_fraction: float = Field(default=0.8, gt=0, le=1,
                                  description="the console warns when a ticket reaches this share of target")
    board_calls: int = Field(default=8, ge=1, le=30, description="last calls kept on the board")
    self_service_min: float = Field(default=30, gt=0, le=240,
                                    description="self-service tickets still open after this are closed as done")


ConsentVersion = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]


class PrivacyImpactAssessment(Strict):
    """The record of the personal-information protection impact assessment (PIPL art. 55-56) that must exist
    before a branch processes faces: who approved what, when, and when it is reviewed again."""

    reference: Annotated[str, StringConstraints(min_length=3, max_length=60)] = Field(
        description="the assessment's document reference, e.g. PIA-2026-017")
    approved_by: Annotated[str, StringConstraints(min_length=2, max_length=80)] = Field(
        description="who approved it (role or office, not a person's ID number)")
    approved_on: dt.date
    review_by: dt.date = Field(description="the assessment is reviewed again by this date")

    @model_validator(mode="after")
    def _review_after_approval(self) -> Self:
        if self.review_by <= self.approved_on:
            raise ValueError("recognition.pia: review_by must be after approved_on")
        return self


class RecognitionSettings(Strict):
    """Returning-customer recognition at the branch's kiosks: off unless switched on with an assessment."""

    enabled: bool = Field(default=False, description="kiosks may enrol and recognise faces at this branch")
    pia: PrivacyImpactAssessment | None = Field(default=None,
                                                description="required to enable: the impact assessment record")
    consent_versions: list[ConsentVersion] = Field(
        default_factory=list, max_length=20,
        description="versions of the consent text the branch's kiosks show; an enrolment under another is refused")
    min_frames: int = Field(default=3, ge=2, le=10, description="good frames an enrolment needs")

    @model_validator(mode="after")
    def _assessed_before_enabled(self) -> Self:
        if self.enabled and self.pia is None:
            raise ValueError("recognition.enabled = true needs a privacy impact assessment record first: add "
                             "[recognition.pia] with reference, approved_by, approved_on and review_by")
        if self.enabled and not self.consent_versions:
            raise ValueError("recognition.enabled = true needs the consent text versions the kiosks show "
                             "(recognition.consent_versions)")
        return self


class BranchConfig(Strict):
    id: Ident = Field(description="branch id used in topics and URLs")
    name: Text
    kind: BranchKind
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone of the branch")
    hours: list[OpeningHours] = Field(min_length=1, description="opening hours per weekday")
    zones: list[Zone] = Field(min_length=1)
    business_types: list[BusinessType] = Field(min_length=1)
    counters: list[Counter] = Field(default_factory=list)
    devices: list[PlannedDevice] = Field(default_factory=list)
    queue: QueueSettings = Field(default_factory=QueueSettings, description="routing rules and calling policy")
    day: DaySettings = Field(default_factory=DaySettings, description="holidays, first and last ticket times")
    appointments: AppointmentSettings = Field(default_factory=AppointmentSettings,
                                              description="bookable businesses, slots and check-in window")
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings,
                                             description="returning-customer recognition (off without a PIA)")

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        zones = {z.id for z in self.zones}
        codes = {b.code for b in self.business_types}
        _unique("zones", [z.id for z in self.zones])
        _unique("business_types", [b.code for b in self.business_types])
        _unique("business_types prefixes", [b.prefix for b in self.business_types])
        _unique("counters", [c.number for c in self.counters])
        _unique("devices", [d.id for d in self.devices])
        for c in self.counters:
            if c.zone not in zones:
                raise ValueError(f"counter {c.number}: zone {c.zone!r} is not one of {sorted(zones)}")
            unknown = set(c.skills) - codes
            if unknown:
                raise ValueError(
                    f"counter {c.number}: skills {sorted(unknown)} are not business codes "
                    f"{sorted(codes)}"
                )
        for d in self.devices:
            if d.zone not in zones:
                raise ValueError(f"device {d.id}: zone {d.zone!r} is not one of {sorted(zones)}")
        _unique("queue.rules", [r.id for r in self.queue.rules])
        _unique("day.holidays", [h.date for h in self.day.holidays])
        unknown = set(self.appointments.businesses) - codes
        if unknown:
            raise ValueError(f"appointments: businesses {sorted(unknown)} are not business codes {sorted(codes)}")
        for r in self.queue.rules:
            unknown = set(r.when.business) - codes
            if unknown:
                raise ValueError(f"queue rule {r.id}: business {sorted(unknown)} are not business codes "
                                 f"{sorted(codes)}")
        return self

    def business(self, code: str) -> BusinessType | None:
        return next((b for b in self.business_types if b.code == code), None)


def _unique(what: str, values: list) -> None:
    seen: set = set()
    dupes = {v for v in values if v in seen or seen.add(v)}
    if dupes:
        raise ValueError(f"{what}: duplicates {sorted(map(str, dupes))}")
