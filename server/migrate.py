"""Alembic migrations, run from code: `smartzone db upgrade`, readiness checks, tests.

Each domain's migrations may branch off the spine's revision, so there can be several
heads; we always upgrade to all of them ("heads").
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from server.db import make_engine, normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key held while migrating: "smartzon" in ASCII, fits a bigint.
PG_MIGRATION_LOCK = 0x736D6172747A6F6E


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["url"] = normalise_url(url)
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    engine = make_engine(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_current(engine: Engine) -> bool:
    """True when the database is at every head (what /readyz checks)."""
    return current_revisions(engine) == head_revisions()


def upgrade_engine(engine: Engine, revision: str = "heads") -> None:
    """Upgrade through an engine, one process at a time.

    Processes that start together on one database (an edge node's hub and server, central workers after a
    deploy) would otherwise each see no schema and race to create it; the loser fails on a duplicate table.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with _one_at_a_time(engine), engine.begin() as conn:
        _lock_in_transaction(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """SQLite: an exclusive lock on a file next to the database (released when the process dies)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _lock_in_transaction(conn: Connection) -> None:
    """PostgreSQL: an advisory lock held until this transaction (DDL included) commits or rolls back."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})


def ensure_url_db(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_engine(engine)
    return engine
