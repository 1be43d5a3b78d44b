"""Fleet settings, read once from the environment (defaults suit a branch with 30 s heartbeats)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta


def _num(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ValueError(f"{name}={raw!r} is not a number") from err
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be greater than 0")
    return value


@dataclass(frozen=True)
class FleetSettings:
    offline_timeout_s: float = 90.0   # no message for this long → offline (3 missed 30 s heartbeats)
    escalate_after_min: float = 15.0  # an alarm nobody acknowledged escalates after this long
    paper_capacity: int = 400         # receipts per paper roll
    refill_lead_min: float = 30.0     # open a refill order when the forecast says paper runs out sooner
    max_command_ttl_s: int = 86_400

    @property
    def offline_timeout(self) -> timedelta:
        return timedelta(seconds=self.offline_timeout_s)

    @property
    def escalate_after(self) -> timedelta:
        return timedelta(minutes=self.escalate_after_min)

    @classmethod
    def from_env(cls) -> FleetSettings:
        return cls(offline_timeout_s=_num("SZ_FLEET_OFFLINE_TIMEOUT_S", 90),
                   escalate_after_min=_num("SZ_FLEET_ESCALATE_AFTER_MIN", 15),
                   paper_capacity=int(_num("SZ_FLEET_PAPER_CAPACITY", 400)),
                   refill_lead_min=_num("SZ_FLEET_REFILL_LEAD_MIN", 30))


SETTINGS = FleetSettings.from_env()
