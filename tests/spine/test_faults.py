"""Faults: kill -9 the hub mid-stream, stop the broker mid-stream. Nothing lost, nothing doubled."""

import os
import signal
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from device_hub.broker import MosquittoBroker
from server.events.models import Event
from server.events.service import counts
from tests.spine.hubkit import HubThread, hub_process, simulate
from tests.support import wait_until


def stored(factory) -> int:
    with factory() as s:
        return counts(s)["events"]


def distinct_ids(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count(func.distinct(Event.id))))


def assert_exactly_once(factory, published_ids: list[str]) -> None:
    """Every acknowledged event stored once; anything else stored is a will the broker sent for a kiosk."""
    with factory() as s:
        rows = s.execute(select(Event.id, Event.type, Event.data)).all()
    stored_ids = [r.id for r in rows]
    assert len(stored_ids) == len(set(stored_ids)), "an event was stored twice"
    assert len(published_ids) == len(set(published_ids)), "the simulator counted an event twice"
    missing = set(published_ids) - set(stored_ids)
    assert not missing, f"{len(missing)} acknowledged events were lost"
    extra = [r for r in rows if r.id not in set(published_ids)]
    assert all(r.type == "state" and r.data["online"] is False for r in extra), extra[:3]


@pytest.mark.slow
def test_hub_killed_mid_stream_loses_and_doubles_nothing(mosquitto, migrated, db_url, tmp_path: Path) -> None:
    """GIVEN the hub as a child process ingesting 10,000 events
    WHEN it is killed with SIGKILL in the middle and started again
    THEN the log holds exactly what the kiosks published, each event once."""
    _engine, factory = migrated
    log = tmp_path / "hub.log"
    hub = hub_process(mosquitto.url, db_url, log)
    box: dict = {}
    sim = threading.Thread(target=lambda: box.setdefault("r", simulate(mosquitto.url, count=5, events=2000)))
    try:
        wait_until(lambda: "ready:" in log.read_text(), timeout=30, message="hub subscribed")
        sim.start()
        wait_until(lambda: stored(factory) >= 2_000, timeout=60, message="hub mid-stream")
        os.kill(hub.pid, signal.SIGKILL)
        hub.wait(10)
        at_kill = stored(factory)
        sim.join(120)
        assert not sim.is_alive()
        hub = hub_process(mosquitto.url, db_url, log)
        published = box["r"].published
        assert published == 10_010
        wait_until(lambda: stored(factory) >= published, timeout=90, message="all events after restart")
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
    assert at_kill < published, "the kill should have happened mid-stream"
    assert stored(factory) == published == distinct_ids(factory)
    assert_exactly_once(factory, box["r"].ids)
    assert "hub stopped" in log.read_text()


@pytest.mark.slow
def test_broker_outage_while_publishing_loses_nothing(tmp_path: Path, migrated) -> None:
    """GIVEN kiosks publishing through a broker with persistence
    WHEN the broker is stopped for a while mid-stream and started again on the same port
    THEN every event the kiosks published reaches the database exactly once."""
    _engine, factory = migrated
    broker = MosquittoBroker(tmp_path / "mq").start()
    stop_sim = threading.Event()
    box: dict = {}
    try:
        with HubThread(broker.url, factory):
            sim = threading.Thread(
                target=lambda: box.setdefault("r", simulate(broker.url, count=3, events=3000, stop=stop_sim)))
            sim.start()
            wait_until(lambda: stored(factory) >= 1_000, timeout=60, message="traffic flowing")
            broker.stop()
            before = stored(factory)
            outage = threading.Event()
            outage.wait(2.0)  # the broker stays down while kiosks keep producing into their outboxes
            broker.start()
            sim.join(120)
            assert not sim.is_alive()
            published = box["r"].published
            assert published >= 9_000
            wait_until(lambda: stored(factory) >= published, timeout=90, message="all events after outage")
        assert before < published
        assert_exactly_once(factory, box["r"].ids)
    finally:
        broker.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_database_away_for_a_while_loses_nothing(mosquitto, migrated, db_url: str) -> None:
    """GIVEN the hub ingesting into PostgreSQL WHEN the database refuses every connection for a while
    (its sessions killed, new ones refused) while kiosks keep publishing THEN the hub keeps running and
    retrying, and once the database is back every event is stored exactly once."""
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    engine, factory = migrated
    name = db_url.rsplit("/", 1)[1]

    def admin(sql: str) -> None:
        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)

    running = HubThread(mosquitto.url, factory)
    with running as hub:
        first = simulate(mosquitto.url, count=2, events=50, seed=3, prefix="before")
        wait_until(lambda: stored(factory) >= first.published, timeout=30, message="events before the outage")
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        engine.dispose()
        try:
            during = simulate(mosquitto.url, count=2, events=200, seed=4, prefix="during")
            wait_until(lambda: hub.counters.db_retries >= 2, timeout=30, message="the hub retrying")
            assert running.thread.is_alive()
        finally:
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        total = first.published + during.published
        wait_until(lambda: stored(factory) >= total, timeout=60, message="every event after the outage")
    assert stored(factory) == total == distinct_ids(factory)
    assert_exactly_once(factory, first.ids + during.ids)

