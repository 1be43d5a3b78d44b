"""/metrics gauges for the scheduler, read from the database at scrape time (any process tells the truth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from server.jobs import lease


class JobMetrics:
    """Last run of every job (start, duration, ok), the lease holder's term and expiry, and our own role."""

    def __init__(self, app: Any, lease_name: str = "scheduler"):
        self.app, self.lease_name = app, lease_name

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = GaugeMetricFamily("sz_job_last_run_started_seconds", "start of the job's last run (Unix time)",
                                    labels=["job"])
        duration = GaugeMetricFamily("sz_job_last_run_duration_seconds", "duration of the job's last finished run",
                                     labels=["job"])
        ok = GaugeMetricFamily("sz_job_last_run_ok", "1 if the job's last finished run succeeded, 0 if it failed",
                               labels=["job"])
        term = GaugeMetricFamily("sz_scheduler_lease_term", "take-overs of the scheduler lease so far")
        expires = GaugeMetricFamily("sz_scheduler_lease_expires_seconds", "when the holder's lease ends (Unix time)")
        try:
            with self.app.state.sessions() as s:
                runs = lease.last_runs(s)
                held = lease.get_lease(s, self.lease_name)
        except SQLAlchemyError:  # unmigrated or unreachable database: /readyz says why
            runs, held = [], None
        for run in runs:
            started.add_metric([run.job], run.started_at.timestamp())
            if run.finished_at is not None:
                duration.add_metric([run.job], (run.finished_at - run.started_at).total_seconds())
                ok.add_metric([run.job], 1.0 if run.ok else 0.0)
        if held is not None:
            term.add_metric([], held.term)
            expires.add_metric([], held.expires_at.timestamp())
        scheduler = getattr(self.app.state, "scheduler", None)
        leader = GaugeMetricFamily("sz_scheduler_leader", "1 if this process holds the scheduler lease")
        leader.add_metric([], 1.0 if scheduler is not None and scheduler.leader else 0.0)
        yield from (started, duration, ok, term, expires, leader)
