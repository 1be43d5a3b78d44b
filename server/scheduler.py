"""Time-driven domain jobs (presence time-outs, SLA escalation, nightly roll-ups) on APScheduler.

Each domain keeps its jobs in `server/<domain>/scheduled.py` and adds them to JOBS here, saying in which
roles (`szconfig.roles`: a branch's edge, the centre, or all in one) it runs. A job is
`fn(session_factory, now)`: it takes the time as an argument so tests drive it with a controlled
clock. `LeasedScheduler(factory).start()` runs them in background threads, in one process at a time
(the holder of a database lease), however many servers and demos share the database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from server.appointments import scheduled as appointment_jobs
from server.customers import scheduled as customer_jobs
from server.db import transaction, utcnow
from server.devices import scheduled as fleet_jobs
from server.jobs import lease
from server.jobs import scheduled as lease_jobs
from server.link import push as link_push
from server.notifications import scheduled as notify_jobs
from server.queueing import scheduled as queue_jobs
from server.referrals import scheduled as referral_jobs
from server.retention import scheduled as retention_jobs
from server.webhooks import scheduled as webhook_jobs
from server.workorders import scheduled as order_jobs
from szconfig.roles import BRANCH, CENTRE, CENTRE_LINK, EVERYWHERE, Role, Roles

log = logging.getLogger(__name__)

JobFn = Callable[[sessionmaker[Session], datetime], object]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    roles: Roles = EVERYWHERE  # where it runs (every entry of JOBS says)
    every_s: float | None = None  # interval jobs
    cron: dict | None = None  # e.g. {"hour": 2, "minute": 30} for nightly jobs


JOBS: list[Job] = []
JOBS += [  # fleet: presence time-outs, alarm escalation, maintenance windows, command expiry, utilisation
    Job("fleet.presence", fleet_jobs.check_presence, CENTRE, every_s=5),
    Job("fleet.escalation", fleet_jobs.escalate_alarms, CENTRE, every_s=30),
    Job("fleet.maintenance", fleet_jobs.end_maintenance, CENTRE, every_s=30),
    Job("fleet.commands", fleet_jobs.expire_commands, CENTRE, every_s=10),
    Job("fleet.rollup", fleet_jobs.rollup_recent, CENTRE, every_s=60),
    Job("fleet.paper_learn", fleet_jobs.learn_paper, CENTRE, every_s=3600),
    Job("workorders.due", order_jobs.notify_overdue, CENTRE, every_s=60),
]
JOBS += [  # notifications: e-mail and bot webhook deliveries, with retries (central: they leave the branch)
    Job("notify.deliver", notify_jobs.deliver_notifications, CENTRE, every_s=10),
]
JOBS += [  # crm: referral SLA escalation and expiry, nightly tags/tiers and template purge, webhooks
    Job("crm.lead_escalation", referral_jobs.escalate_leads, CENTRE, every_s=60),
    Job("crm.lead_expiry", referral_jobs.expire_leads, CENTRE, cron={"hour": 1, "minute": 15}),
    Job("crm.reevaluate", customer_jobs.reevaluate_customers, CENTRE, cron={"hour": 2, "minute": 0}),
    Job("crm.template_purge", customer_jobs.purge_templates, CENTRE, cron={"hour": 2, "minute": 30}),
    Job("crm.webhooks", webhook_jobs.deliver_webhooks, CENTRE, every_s=10),
]
JOBS += [  # retention: customer data and the audit log past their configured time, in bounded chunks
    Job("retention.touchpoints", retention_jobs.purge_touchpoints, CENTRE, every_s=3600),
    Job("retention.visits", retention_jobs.purge_visits, CENTRE, every_s=3600),
    Job("retention.audit", retention_jobs.purge_audit, EVERYWHERE, every_s=3600),  # an edge audits sign-ins too
]
JOBS += [  # queueing: self-service tickets whose customer has left the device
    Job("queueing.close_self_service", queue_jobs.close_stale_self_service, BRANCH, every_s=60),
    Job("appointments.no_shows", appointment_jobs.mark_no_shows, BRANCH, every_s=60),
]
JOBS += [  # the link: what changed at the centre goes down to the branches' edges (staff accounts)
    Job("link.push_down", link_push.push_down, CENTRE_LINK, every_s=60),
]
JOBS += [  # the scheduler's own housekeeping
    Job("jobs.prune_runs", lease_jobs.prune_runs, EVERYWHERE, every_s=3600),
]

LEASE = "scheduler"


def jobs_for(role: Role | str) -> list[Job]:
    """The jobs that run in `role`."""
    return [j for j in JOBS if Role(role) in j.roles]


def default_holder() -> str:
    """host:pid:random, so operators see which process holds the lease and a restarted pid is new."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedScheduler:
    """Fires every job in every process, but runs it only in the process holding the `scheduler` lease.

    One leader lease for the whole scheduler, not one per job: jobs are few and cheap, and a single
    holder is easy to reason about and to show. The lease is renewed every `renew_s` by a thread of
    its own (a slow job never delays it); the others try as often, and take over once it expired
    (`ttl_s` after the holder's last renewal: kill -9, a frozen host, a lost database). Before each
    run the lease is renewed in the same transaction that records the run, so a process that lost
    the lease without noticing never starts a job. `stop()` waits for running jobs, then releases the
    lease, so a clean restart hands over at once. Jobs are idempotent (they take `now`), so even a run
    that outlives a frozen holder's lease does no harm twice.
    """

    def __init__(self, factory: sessionmaker[Session], jobs: list[Job] | None = None, *, ttl_s: float = 15.0,
                 renew_s: float | None = None, holder: str | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.factory, self.jobs = factory, JOBS if jobs is None else jobs
        self.ttl = timedelta(seconds=ttl_s)
        self.renew_s = renew_s if renew_s is not None else ttl_s / 3
        self.holder = holder or default_holder()
        self.clock = clock
        self.term: int | None = None
        self._valid_until: datetime | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._aps: BackgroundScheduler | None = None

    @property
    def leader(self) -> bool:
        """We hold the lease as far as we know (the database is asked again before every run)."""
        return self.term is not None and self._valid_until is not None and self.clock() < self._valid_until

    def tick(self) -> bool:
        """Take or renew the lease once; False (and logged on a change) when another process holds it."""
        now = self.clock()
        was = self.term
        try:
            with transaction(self.factory) as s:
                term = lease.acquire(s, name=LEASE, holder=self.holder, now=now, ttl=self.ttl)
        except SQLAlchemyError as err:
            log.warning("scheduler lease: cannot reach the database (%s); jobs pause when the lease ends",
                        str(err).splitlines()[0][:200])
            return self.leader
        self.term = term
        self._valid_until = now + self.ttl if term is not None else None
        if term is not None and was != term:
            log.info("scheduler lease taken by %s (term %s): this process runs the jobs", self.holder, term)
        elif term is None and was is not None:
            log.warning("scheduler lease lost by %s: another process runs the jobs", self.holder)
        return term is not None

    def run_job(self, job: Job) -> bool:
        """Run `job` once if we hold the lease, recording the run; False when skipped."""
        if not self.leader:
            return False
        now = self.clock()
        with transaction(self.factory) as s:
            term = lease.acquire(s, name=LEASE, holder=self.holder, now=now, ttl=self.ttl)
            run_id = None if term is None else lease.begin_run(s, job=job.name, holder=self.holder, term=term,
                                                               now=now)
        if run_id is None:
            self.term = self._valid_until = None
            log.warning("scheduler lease lost by %s: another process runs the jobs", self.holder)
            return False
        self._valid_until = now + self.ttl
        error = None
        try:
            job.fn(self.factory, now)
        except Exception as err:  # a failing job is logged and retried at its next run, never fatal
            log.exception("scheduled job %s failed", job.name)
            error = f"{type(err).__name__}: {err}"
        with transaction(self.factory) as s:
            lease.finish_run(s, run_id=run_id, now=self.clock(), error=error)
        return True

    def _safe_run(self, job: Job) -> None:
        try:
            self.run_job(job)
        except SQLAlchemyError as err:
            log.warning("scheduled job %s not run: database unavailable (%s)", job.name,
                        str(err).splitlines()[0][:200])

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_s):
            try:
                self.tick()
            except Exception:  # never let the renewer die: the lease would lapse while jobs look scheduled
                log.exception("scheduler lease renewal failed")

    def start(self) -> LeasedScheduler:
        self.tick()
        self._renewer = threading.Thread(target=self._renew_loop, name="sz-scheduler-lease", daemon=True)
        self._renewer.start()
        self._aps = BackgroundScheduler(timezone="UTC")
        for job in self.jobs:
            if job.every_s:
                self._aps.add_job(self._safe_run, "interval", seconds=job.every_s, args=(job,), id=job.name,
                                  max_instances=1, coalesce=True)
            elif job.cron:
                self._aps.add_job(self._safe_run, "cron", args=(job,), id=job.name, max_instances=1,
                                  coalesce=True, **job.cron)
        self._aps.start()
        return self

    def stop(self) -> None:
        """Stop firing, wait for running jobs, then release the lease so another process takes over now."""
        self._stop.set()
        if self._aps is not None:
            self._aps.shutdown(wait=True)
        if self._renewer is not None:
            self._renewer.join(5)
        if self.term is not None:
            try:
                with transaction(self.factory) as s:
                    lease.release(s, name=LEASE, holder=self.holder, now=self.clock())
            except SQLAlchemyError:
                log.warning("scheduler lease not released; it ends by itself in %s", self.ttl)
            self.term = self._valid_until = None


def start(factory: sessionmaker[Session], jobs: list[Job] | None = None, **kwargs: object) -> LeasedScheduler:
    """A started LeasedScheduler (the demo, `smartzone server` through the app's lifespan)."""
    return LeasedScheduler(factory, jobs, **kwargs).start()  # type: ignore[arg-type]
