"""The leader lease, as conditional UPDATE/INSERT statements in the caller's (short) transaction.

Why a lease row and not PostgreSQL advisory locks: one mechanism on SQLite and PostgreSQL, visible
to operators (`SELECT * FROM job_leases`), and no session-bound lock that a pooled connection, a
PgBouncer in transaction mode or a half-dead TCP connection would hold or lose silently. The cost is
that expiry is judged by the holders' clocks (`now` is passed in, so tests drive it): keep the lease
time well above the clock skew between hosts (NTP keeps it to milliseconds).

Correctness under concurrency rests on the WHERE clauses: PostgreSQL re-checks an UPDATE's condition
on the row version it waited for (READ COMMITTED), SQLite serialises writers, and the INSERT of a
missing row is ON CONFLICT DO NOTHING, so of two contenders exactly one gets a row back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.db import insert_for
from server.jobs.models import JobLease, JobRun

LEASES = JobLease.__table__
RUNS = JobRun.__table__


def acquire(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> int | None:
    """Renew our lease, or take over an expired one, or create it; the lease's term if we hold it now."""
    until = now + ttl
    renewed = session.execute(
        update(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder, LEASES.c.expires_at > now)
        .values(renewed_at=now, expires_at=until).returning(LEASES.c.term)).scalar()
    if renewed is not None:
        return renewed
    taken = session.execute(
        update(LEASES).where(LEASES.c.name == name, LEASES.c.expires_at <= now)
        .values(holder=holder, term=LEASES.c.term + 1, acquired_at=now, renewed_at=now, expires_at=until)
        .returning(LEASES.c.term)).scalar()
    if taken is not None:
        return taken
    created = session.execute(
        insert_for(session, LEASES).values(name=name, holder=holder, term=1, acquired_at=now, renewed_at=now,
                                           expires_at=until)
        .on_conflict_do_nothing(index_elements=["name"]).returning(LEASES.c.term)).scalar()
    return created


def release(session: Session, *, name: str, holder: str, now: datetime) -> bool:
    """Give the lease up (a clean shutdown), so another process takes over at its next try."""
    res = session.execute(update(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder,
                                               LEASES.c.expires_at > now).values(expires_at=now))
    return bool(res.rowcount)


def begin_run(session: Session, *, job: str, holder: str, term: int, now: datetime) -> int:
    return session.execute(RUNS.insert().values(job=job, holder=holder, term=term, started_at=now)
                           .returning(RUNS.c.id)).scalar_one()


def finish_run(session: Session, *, run_id: int, now: datetime, error: str | None) -> None:
    session.execute(update(RUNS).where(RUNS.c.id == run_id)
                    .values(finished_at=now, ok=error is None, error=error[:500] if error else None))


def prune_runs(session: Session, *, before: datetime) -> int:
    """Forget runs started before `before` (the log keeps days, not the history of the branch)."""
    return session.execute(delete(RUNS).where(RUNS.c.started_at < before)).rowcount


def get_lease(session: Session, name: str) -> JobLease | None:
    return session.get(JobLease, name)


def last_runs(session: Session) -> list[JobRun]:
    """The newest run of every job, by job name."""
    newest = select(func.max(JobRun.id)).group_by(JobRun.job)
    return list(session.scalars(select(JobRun).where(JobRun.id.in_(newest)).order_by(JobRun.job)))
