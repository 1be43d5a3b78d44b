"""A branch as configured by the bank: zones, counters, business types, devices, opening hours."""

from datetime import time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartzone.config.ids import Ident


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

    @model_validator(mode="after")
    def _max_after_target(self) -> Self:
        if self.max_wait_min < self.target_wait_min:
            raise ValueError("max_wait_min must be at least target_wait_min")
        return self


class Counter(Strict):
    number: int = Field(gt=0, le=999, description="counter number shown to customers")
    zone: Ident = Field(description="zone id the counter stands in")
    skills: list[Ident] = Field(min_length=1, description="business codes it serves")


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    SENSOR = "sensor"


class PlannedDevice(Strict):
    id: Ident = Field(description="device id, unique in the branch")
    kind: DeviceKind
    zone: Ident = Field(description="zone id the device stands in")


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
        return self

    def business(self, code: str) -> BusinessType | None:
        return next((b for b in self.business_types if b.code == code), None)


def _unique(what: str, values: list) -> None:
    seen: set = set()
    dupes = {v for v in values if v in seen or seen.add(v)}
    if dupes:
        raise ValueError(f"{what}: duplicates {sorted(map(str, dupes))}")
