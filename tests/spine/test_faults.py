"""Faults: kill -9 the hub or the broker mid-stream, stop the broker, take the database away, kill -9 a
kiosk while it is offline. Nothing lost, nothing doubled: a device keeps each event until the hub
confirms its commit, so the counts below are of what the kiosks produced, not of what a broker took."""

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
    """Every event the kiosks produced stored once; anything else stored is a will the broker sent for a kiosk."""
    with factory() as s:
        rows = s.execute(select(Event.id, Event.type, Event.data)).all()
    stored_ids = [r.id for r in rows]
    assert len(stored_ids) == len(set(stored_ids)), "an event was stored twice"
    assert len(published_ids) == len(set(published_ids)), "the simulator counted an event twice"
    missing = set(published_ids) - set(stored_ids)
    assert not missing, f"{len(missing)} events the kiosks produced were lost"
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
    # confirmations the killed hub never sent are made up by resends after the kiosks' time-out (3 s here)
    sim = threading.Thread(target=lambda: box.setdefault(
        "r", simulate(mosquitto.url, count=5, events=2000, confirm_timeout_s=3)))
    try:
        wait_until(lambda: "ready:" in log.read_text(), timeout=30, message="hub subscribed")
        sim.start()
        wait_until(lambda: stored(factory) >= 2_000, timeout=60, message="hub mid-stream")
        os.kill(hub.pid, signal.SIGKILL)
        hub.wait(10)
        at_kill = stored(factory)
        hub = hub_process(mosquitto.url, db_url, log)
        sim.join(120)  # the kiosks end once the restarted hub has confirmed everything
        assert not sim.is_alive()
        published = box["r"].published
        assert published == 10_010 and box["r"].unconfirmed == 0
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
            # 3 × 3000 events, a birth and a goodbye each, and a birth for each reconnection: all confirmed
            assert published == len(box["r"].ids) >= 9_009 and box["r"].unconfirmed == 0
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
        box: dict = {}
        sim = threading.Thread(target=lambda: box.setdefault(
            "r", simulate(mosquitto.url, count=2, events=200, seed=4, prefix="during")))
        try:
            sim.start()
            wait_until(lambda: hub.counters.received >= 400 and hub.counters.db_retries >= 2, timeout=30,
                       message="the kiosks' events at the hub, the hub retrying")
            assert running.thread.is_alive()
        finally:
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        sim.join(90)  # the kiosks end once the hub has confirmed everything
        during = box["r"]
        assert during.unconfirmed == 0
        total = first.published + during.published
        wait_until(lambda: stored(factory) >= total, timeout=60, message="every event after the outage")
    assert stored(factory) == total == distinct_ids(factory)
    assert_exactly_once(factory, first.ids + during.ids)



@pytest.mark.slow
def test_broker_killed_mid_stream_loses_and_doubles_nothing(tmp_path: Path, migrated) -> None:
    """GIVEN 20 kiosks publishing 10,000 events through a broker with persistence (autosave every 30 s)
    WHEN the broker is killed with SIGKILL mid-stream (it loses what it held since its last snapshot) and
    started again on the same port
    THEN exactly the 10,000 events (with each kiosk's birth and goodbye) are stored, none twice."""
    _engine, factory = migrated
    broker = MosquittoBroker(tmp_path / "mq").start()
    box: dict = {}
    try:
        with HubThread(broker.url, factory) as hub:
            sim = threading.Thread(target=lambda: box.setdefault(
                "r", simulate(broker.url, count=20, events=500, confirm_timeout_s=3)))
            sim.start()
            wait_until(lambda: stored(factory) >= 2_000, timeout=60, message="traffic flowing")
            broker.stop(kill=True)
            at_kill = stored(factory)
            broker.start()
            sim.join(180)
            assert not sim.is_alive()
            result = box["r"]
            # 20 × 500 events, a birth and a goodbye each, and a birth per reconnection: all confirmed
            assert result.published == len(result.ids) >= 10_040 and result.unconfirmed == 0
            wait_until(lambda: stored(factory) >= result.published, timeout=90, message="all events after the crash")
            assert hub.counters.reconnects >= 1
        assert at_kill < 10_000, "the kill should have happened mid-stream"
        assert_exactly_once(factory, result.ids)
    finally:
        broker.stop()


KIOSK = """
import sys, time
from pathlib import Path
from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from device_hub.link.outbox import SqliteOutbox
from wire.messages import SurveyData, SurveyMessage

url, outbox, events = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
link = DeviceLink(parse_broker_url(url), branch="b001", device="kk1", outbox=SqliteOutbox(outbox),
                  confirm_timeout_s=2).start()
for _ in range(events):
    link.send(SurveyMessage, SurveyData(score=5))
print("queued", flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.slow
def test_kiosk_killed_while_offline_keeps_its_events(tmp_path: Path, migrated) -> None:
    """GIVEN a kiosk whose broker is down, with 300 events in its SQLite outbox
    WHEN the kiosk is killed with SIGKILL, the broker comes back, and the kiosk starts again
    THEN the hub stores all 300 events once and the kiosk's outbox ends empty."""
    import subprocess
    import sys

    from server.events.models import Event
    from tests.spine.hubkit import REPO

    _engine, factory = migrated
    broker = MosquittoBroker(tmp_path / "mq").start()
    url = broker.url
    broker.stop()
    outbox = tmp_path / "kiosk-outbox.db"
    script = tmp_path / "kiosk.py"
    script.write_text(KIOSK)

    def kiosk(events: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(script), url, str(outbox), str(events)], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)

    first = kiosk(300)
    try:
        assert first.stdout.readline().strip() == "queued"
    finally:
        first.kill()
        first.wait(10)
    surveys = select(func.count()).select_from(Event).where(Event.device_id == "kk1", Event.type == "survey")
    try:
        broker.start()
        with HubThread(url, factory):
            again = kiosk(0)
            try:
                wait_until(lambda: factory().scalar(surveys) >= 300, timeout=60, message="the outbox delivered")
                from device_hub.link.outbox import SqliteOutbox

                box = SqliteOutbox(outbox)
                wait_until(lambda: len(box) == 0, timeout=30, message="the hub's confirmations")
                box.close()
            finally:
                again.kill()
                again.wait(10)
        with factory() as s:
            assert s.scalar(surveys) == 300
        assert stored(factory) == distinct_ids(factory)
    finally:
        broker.stop()
