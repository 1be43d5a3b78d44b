"""Prometheus metrics per branch, read from the database at scrape time (so the hub's changes count too)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from server.alarms.models import ACTIVE, Alarm
from server.db import utcnow
from server.devices.models import Device, UsageHour


class FleetCollector(Collector):
    def __init__(self, factory: Any):
        self.factory = factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        online = GaugeMetricFamily("sz_devices_online", "devices online, per branch", labels=["branch"])
        total = GaugeMetricFamily("sz_devices", "devices registered, per branch", labels=["branch"])
        alarms = GaugeMetricFamily("sz_alarms_active", "active alarms per branch and severity",
                                   labels=["branch", "severity"])
        avail = GaugeMetricFamily("sz_device_availability_ratio",
                                  "in-service time over opening hours, last 24 h, per branch", labels=["branch"])
        try:
            with self.factory() as s:
                for b, n, up in s.execute(select(Device.branch_id, func.count(),
                                                 func.sum(func.cast(Device.online, type_=_int())))
                                          .group_by(Device.branch_id)):
                    total.add_metric([b], float(n))
                    online.add_metric([b], float(up or 0))
                for b, sev, n in s.execute(select(Alarm.branch_id, Alarm.severity, func.count())
                                           .where(Alarm.status.in_(ACTIVE)).group_by(Alarm.branch_id, Alarm.severity)):
                    alarms.add_metric([b, sev], float(n))
                since = utcnow() - timedelta(hours=24)
                for b, o, a in s.execute(select(UsageHour.branch_id, func.sum(UsageHour.open_s),
                                                func.sum(UsageHour.available_s))
                                         .where(UsageHour.hour >= since).group_by(UsageHour.branch_id)):
                    if o:
                        avail.add_metric([b], float(a or 0) / float(o))
        except Exception:  # a scrape must never fail because of one domain  # pragma: no cover
            return
        yield from (online, total, alarms, avail)


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()
