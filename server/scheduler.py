"""Time-driven domain jobs (presence time-outs, SLA escalation, nightly roll-ups) on APScheduler.

Each domain keeps its jobs in `server/<domain>/scheduled.py` and adds them to JOBS here. A job is
`fn(session_factory, now)`: it takes the time as an argument so tests drive it with a controlled
clock. `start(factory)` runs them in a background thread (the demo and `smartzone server`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from server.customers import scheduled as customer_jobs
from server.db import utcnow
from server.devices import scheduled as fleet_jobs
from server.queueing import scheduled as queue_jobs
from server.referrals import scheduled as referral_jobs
from server.webhooks import scheduled as webhook_jobs

log = logging.getLogger(__name__)

JobFn = Callable[[sessionmaker[Session], datetime], object]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    every_s: float | None = None  # interval jobs
    cron: dict | None = None  # e.g. {"hour": 2, "minute": 30} for nightly jobs


JOBS: list[Job] = []
JOBS += [  # fleet: presence time-outs, alarm escalation, maintenance windows, command expiry, utilisation
    Job("fleet.presence", fleet_jobs.check_presence, every_s=5),
    Job("fleet.escalation", fleet_jobs.escalate_alarms, every_s=30),
    Job("fleet.maintenance", fleet_jobs.end_maintenance, every_s=30),
    Job("fleet.commands", fleet_jobs.expire_commands, every_s=10),
    Job("fleet.rollup", fleet_jobs.rollup_recent, every_s=60),
]
JOBS += [  # crm: referral SLA escalation and expiry, nightly tags/tiers and template purge, webhooks
    Job("crm.lead_escalation", referral_jobs.escalate_leads, every_s=60),
    Job("crm.lead_expiry", referral_jobs.expire_leads, cron={"hour": 1, "minute": 15}),
    Job("crm.reevaluate", customer_jobs.reevaluate_customers, cron={"hour": 2, "minute": 0}),
    Job("crm.template_purge", customer_jobs.purge_templates, cron={"hour": 2, "minute": 30}),
    Job("crm.webhooks", webhook_jobs.deliver_webhooks, every_s=10),
]


def run_job(job: Job, factory: sessionmaker[Session]) -> None:
    try:
        job.fn(factory, utcnow())
    except Exception:  # a failing job is logged and retried at its next run, never fatal
        log.exception("scheduled job %s failed", job.name)


def start(factory: sessionmaker[Session], jobs: list[Job] | None = None) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in JOBS if jobs is None else jobs:
        if job.every_s:
            scheduler.add_job(run_job, "interval", seconds=job.every_s, args=(job, factory), id=job.name,
                              max_instances=1, coalesce=True)
        elif job.cron:
            scheduler.add_job(run_job, "cron", args=(job, factory), id=job.name, max_instances=1,
                              coalesce=True, **job.cron)
    scheduler.start()
    return scheduler
JOBS += [  # queueing: self-service tickets whose customer has left the device
    Job("queueing.close_self_service", queue_jobs.close_stale_self_service, every_s=60),
]
