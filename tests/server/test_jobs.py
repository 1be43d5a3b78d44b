"""Scheduled jobs: one process at a time runs them, under a database lease taken over when its holder dies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.db import make_engine, session_factory, transaction, utcnow
from server.jobs import lease
from server.jobs.models import JobLease, JobRun
from server.migrate import upgrade_engine
from server.scheduler import LEASE, Job, LeasedScheduler
from tests.support import wait_until

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_factory(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    yield session_factory(engine)
    engine.dispose()


def _runs(factory) -> list[JobRun]:
    with factory() as s:
        return list(s.scalars(select(JobRun).order_by(JobRun.started_at, JobRun.id)))


def test_lease_is_held_by_one_and_taken_over_after_expiry(sqlite_factory):
    """GIVEN two schedulers on one SQLite database and a controlled clock WHEN a holds the lease THEN b runs
    nothing; WHEN a stops renewing past the lease time THEN b takes over (term 2) and a, even believing itself
    leader, starts nothing; WHEN b stops cleanly THEN a gets the lease back at once."""
    now = [T0]
    calls: list[tuple[str, datetime]] = []

    def job_fn(name):
        return lambda _f, at: calls.append((name, at))

    a = LeasedScheduler(sqlite_factory, [], ttl_s=10, holder="a", clock=lambda: now[0])
    b = LeasedScheduler(sqlite_factory, [], ttl_s=10, holder="b", clock=lambda: now[0])
    assert a.tick() and not b.tick()
    assert a.leader and not b.leader and a.term == 1
    assert a.run_job(Job("t", job_fn("a"))) and not b.run_job(Job("t", job_fn("b")))

    now[0] += timedelta(seconds=9)
    assert a.tick()  # renewed: now valid until T0 + 19 s
    now[0] += timedelta(seconds=9)
    assert not b.tick()  # 18 s: still a's

    now[0] += timedelta(seconds=1.5)  # 19.5 s: a has not renewed (dead, frozen, cut off)
    assert b.tick() and b.term == 2
    assert not a.leader
    a._valid_until = now[0] + timedelta(hours=1)  # a frozen process that still believes it leads
    assert not a.run_job(Job("t", job_fn("a-stale")))
    assert a.term is None and not a.leader
    assert b.run_job(Job("t", job_fn("b")))

    b.stop()  # clean shutdown releases the lease
    assert a.tick() and a.term == 3
    assert [c[0] for c in calls] == ["a", "b"]
    assert [(r.job, r.holder, r.term, r.ok) for r in _runs(sqlite_factory)] == [("t", "a", 1, True),
                                                                                ("t", "b", 2, True)]
    with sqlite_factory() as s:
        held = s.get(JobLease, LEASE)
        assert (held.holder, held.term, held.expires_at) == ("a", 3, now[0] + timedelta(seconds=10))


def test_lease_statements_without_a_row_and_on_release(sqlite_factory):
    """GIVEN no lease row WHEN two holders ask THEN the first creates it; a release by a non-holder changes
    nothing; a holder's own expired lease is taken back with a new term."""
    ttl = timedelta(seconds=5)
    with transaction(sqlite_factory) as s:
        assert lease.acquire(s, name="x", holder="a", now=T0, ttl=ttl) == 1
        assert lease.acquire(s, name="x", holder="b", now=T0, ttl=ttl) is None
        assert not lease.release(s, name="x", holder="b", now=T0)
        assert lease.acquire(s, name="x", holder="a", now=T0 + timedelta(seconds=6), ttl=ttl) == 2
        assert lease.release(s, name="x", holder="a", now=T0 + timedelta(seconds=7))
        assert lease.acquire(s, name="x", holder="b", now=T0 + timedelta(seconds=7), ttl=ttl) == 3


def test_failed_run_is_recorded_and_old_runs_pruned(sqlite_factory):
    """GIVEN the lease WHEN a job raises THEN its run is recorded as failed with the error and the scheduler
    goes on; WHEN runs are older than the retention THEN the prune job forgets them."""
    from server.jobs.scheduled import RUN_RETENTION, prune_runs

    now = [T0]
    sched = LeasedScheduler(sqlite_factory, [], ttl_s=10, holder="a", clock=lambda: now[0])
    assert sched.tick()

    def boom(_f, _now):
        raise RuntimeError("printer on fire")

    assert sched.run_job(Job("boom", boom))
    assert sched.run_job(Job("fine", lambda _f, _n: None))
    with sqlite_factory() as s:
        last = {r.job: r for r in lease.last_runs(s)}
    assert last["boom"].ok is False and last["boom"].error == "RuntimeError: printer on fire"
    assert last["fine"].ok is True and last["fine"].error is None
    assert prune_runs(sqlite_factory, T0 + RUN_RETENTION) == 0
    assert prune_runs(sqlite_factory, T0 + RUN_RETENTION + timedelta(seconds=1)) == 2


def test_app_lifespan_runs_jobs_once_across_two_apps(sqlite_url):
    """GIVEN two apps with jobs on, on one database WHEN both run THEN one holds the lease and runs the job,
    /metrics shows its last run and who leads; WHEN the leader stops THEN its lease is released and the
    other app takes over."""
    from server.app import create_app
    from szconfig import ServerSettings

    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    factory = session_factory(engine)
    settings = ServerSettings(db=sqlite_url, jobs=True, jobs_lease_s=3)
    job = [Job("test.tick", lambda _f, _n: None, every_s=0.1)]
    first, second = (create_app(settings, engine=engine, jobs=job), create_app(settings, engine=engine, jobs=job))
    c1 = TestClient(first).__enter__()  # alone, so it takes the lease; left by hand below
    try:
        wait_until(lambda: _runs(factory), 10, message="a first run of test.tick")
        with TestClient(second) as c2:
            wait_until(lambda: second.state.scheduler.term is None and c2.get("/healthz"), 5, message="app 2 up")
            assert first.state.scheduler.leader and not second.state.scheduler.leader
            m1, m2 = c1.get("/metrics").text, c2.get("/metrics").text
            assert 'sz_job_last_run_ok{job="test.tick"} 1.0' in m1 and "sz_scheduler_leader 1.0" in m1
            assert 'sz_job_last_run_ok{job="test.tick"} 1.0' in m2 and "sz_scheduler_leader 0.0" in m2
            assert {r.holder for r in _runs(factory)} == {first.state.scheduler.holder}
            c1.__exit__(None, None, None)  # the first app's lifespan ends: its scheduler releases the lease
            c1 = None
            wait_until(lambda: second.state.scheduler.leader, 5, message="the second app to take over")
            n = len(_runs(factory))
            wait_until(lambda: len(_runs(factory)) > n + 2, 5, message="runs by the second app")
            assert {r.holder for r in _runs(factory)[n:]} == {second.state.scheduler.holder}
    finally:
        if c1 is not None:
            c1.__exit__(None, None, None)
    engine.dispose()


def test_app_without_settings_runs_no_jobs(sqlite_factory):
    """GIVEN create_app() without settings (tests, tools) WHEN it runs THEN it starts no scheduler."""
    from server.app import create_app

    engine = sqlite_factory.kw["bind"]
    app = create_app(engine=engine)
    with TestClient(app):
        assert app.state.scheduler is None
    with sqlite_factory() as s:
        assert s.get(JobLease, LEASE) is None


def _spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1",
                                                                          **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _no_overlap(runs: list[JobRun]) -> None:
    for before, after in pairwise(runs):
        assert before.finished_at is not None and before.finished_at <= after.started_at, (before.id, after.id)


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_two_processes_on_postgresql_one_runs_then_the_other_takes_over(pg_url):
    """GIVEN two processes running the leased scheduler on one PostgreSQL database WHEN both live THEN every
    run is by one holder and no two runs overlap; WHEN the holder is killed with -9 THEN the other takes
    over within the lease time (plus one renewal) and runs alone, still without overlap."""
    ttl_s, renew_s = 2.0, 0.5
    engine = make_engine(pg_url)
    upgrade_engine(engine)
    factory = session_factory(engine)
    procs = {h: _spawn(["tests.server.lease_worker", pg_url, h, str(ttl_s), str(renew_s)]) for h in ("p1", "p2")}
    try:
        def enough(n: int):
            for p in procs.values():
                assert p.poll() is None, p.stderr.read()
            return len(_runs(factory)) >= n

        wait_until(lambda: enough(15), 20, message="15 runs of test.tick")
        runs = _runs(factory)
        holders = {r.holder for r in runs}
        assert len(holders) == 1, holders
        _no_overlap([r for r in runs if r.finished_at is not None])
        leader = holders.pop()
        other = "p2" if leader == "p1" else "p1"

        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(5)
        killed_at = utcnow()
        new = wait_until(lambda: [r for r in _runs(factory) if r.holder == other], ttl_s + renew_s + 5,
                         message=f"{other} to take over")
        takeover_s = (new[0].started_at - killed_at).total_seconds()
        print(f"take-over after kill -9: {takeover_s:.2f} s (lease {ttl_s} s, renewal {renew_s} s)")
        assert takeover_s <= ttl_s + renew_s + 0.5
        wait_until(lambda: len([r for r in _runs(factory) if r.holder == other]) >= 5, 10,
                   message=f"5 runs by {other}")
        runs = _runs(factory)
        old = [r for r in runs if r.holder == leader]
        after = [r for r in runs if r.holder == other]
        assert max(r.started_at for r in old) < min(r.started_at for r in after)
        _no_overlap([r for r in old if r.finished_at is not None] + [r for r in after if r.finished_at is not None])
        assert {r.term for r in after} == {2} and {r.term for r in old} == {1}
        with factory() as s:
            assert s.get(JobLease, LEASE).holder == other
    finally:
        for p in procs.values():
            _stop(p)
    assert procs[other].returncode == 0, procs[other].stderr.read()
    with factory() as s:
        assert s.get(JobLease, LEASE).expires_at <= utcnow()  # released on SIGTERM
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_two_smartzone_servers_share_the_jobs(pg_url):
    """GIVEN two `smartzone server --port 0` on one PostgreSQL database WHEN both are ready THEN exactly one
    says on /metrics that it leads; WHEN it is killed with -9 THEN the other leads within the lease time."""
    env = {"SZ_JOBS_LEASE_S": "3"}
    upgrade_engine(engine := make_engine(pg_url))  # two servers migrating an empty database at once would race
    engine.dispose()
    servers = [_spawn(["smartzone.cli.main", "server", "--dev", "--db", pg_url, "--port", "0"], env) for _ in range(2)]
    try:
        urls = []
        for proc in servers:
            line = wait_until(lambda p=proc: _console_line(p), 30, message="the server's console URL")
            urls.append(re.search(r"console (http://\S+)/ ", line).group(1))

        def leads(url: str) -> bool | None:
            try:
                text = httpx.get(f"{url}/metrics", timeout=2).text
            except httpx.HTTPError:
                return None
            return "sz_scheduler_leader 1.0" in text

        wait_until(lambda: sum(bool(leads(u)) for u in urls) == 1, 10, message="exactly one leading server")
        leader = next(i for i, u in enumerate(urls) if leads(u))
        servers[leader].send_signal(signal.SIGKILL)
        servers[leader].wait(5)
        started = time.monotonic()
        wait_until(lambda: leads(urls[1 - leader]), 3 + 1 + 5, message="the other server to take over")
        print(f"server take-over after kill -9: {time.monotonic() - started:.2f} s (lease 3 s)")
    finally:
        for p in servers:
            _stop(p)


def _console_line(proc: subprocess.Popen) -> str | None:
    assert proc.poll() is None, proc.stderr.read()
    line = proc.stderr.readline()
    return line if "server: console" in line else None
