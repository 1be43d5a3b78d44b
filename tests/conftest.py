"""Shared fixtures: real databases (SQLite file, a fresh PostgreSQL database), private brokers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.open_hours import OPEN_CONFIGS
from tests.support import wait_until

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SZ_CONFIG_DIR"] = str(OPEN_CONFIGS)  # open around the clock: tests/open_hours.py

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("SZ_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., object]:
    """`wait_until(condition, timeout=10, message=…)`; also importable from tests.support."""
    return wait_until


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_reachable()


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A brand-new PostgreSQL database for this test, dropped afterwards."""
    if not pg_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (CI must provide it)")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    import psycopg

    name = f"sz_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'smartzone.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'smartzone.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def migrated(db_url: str):
    """(engine, session factory) on a migrated database with the demo branches."""
    from server.branches.service import sync_branches
    from server.db import make_engine, session_factory
    from server.migrate import upgrade_engine
    from szconfig import load_branches

    engine = make_engine(db_url)
    upgrade_engine(engine)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        sync_branches(s, load_branches(OPEN_CONFIGS / "branches"))
    yield engine, factory
    engine.dispose()


@pytest.fixture
def real_hours(migrated):
    """The migrated database with the branch files' real opening hours and holidays (for tests about hours,
    which inject `now`); every other test runs on branches open around the clock (tests/open_hours.py)."""
    from server.branches.service import sync_branches
    from szconfig import load_branches
    from tests.open_hours import REAL_CONFIGS

    _engine, factory = migrated
    with factory() as s, s.begin():
        sync_branches(s, load_branches(REAL_CONFIGS / "branches"))
    return migrated


@pytest.fixture
def mosquitto(tmp_path: Path):
    """A private Mosquitto on a free port with persistence, stopped after the test."""
    from device_hub.broker import MosquittoBroker

    if not MosquittoBroker.available():
        pytest.fail("mosquitto is not installed (the README's set-up installs it)")
    broker = MosquittoBroker(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()
