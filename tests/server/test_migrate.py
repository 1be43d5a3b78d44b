"""Several processes starting on one empty database migrate it once, without racing each other."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from server.db import make_engine
from server.migrate import is_current

COPIES = 3


def test_processes_migrating_an_empty_database_at_once_all_succeed(db_url: str) -> None:
    """GIVEN an empty database WHEN several `smartzone db upgrade` start at the same moment (a hub and a
    server of an edge node, or central workers after a deploy) THEN each exits 0 and the schema is current."""
    procs = [subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "db", "upgrade", "--db", db_url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(COPIES)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * COPIES, "\n---\n".join(outputs)
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() >= 1
    finally:
        engine.dispose()
