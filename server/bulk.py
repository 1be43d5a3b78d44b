"""Set-based statements straight to the driver: how the hub's hot path reaches the database.

SQLAlchemy's per-parameter work (type decorators, executemany bookkeeping, compiling an expanding
`IN`) cost the hub more than the database's own work did. Here a statement reads its rows from a
table `v`: on SQLite a multi-row `VALUES` list, on PostgreSQL `unnest` of one array per column
(binary), so the statement text never changes with the number of rows (psycopg parses and prepares
it once; parsing a long `VALUES` list of placeholders cost more than running it). Values
are written exactly as the ORM types write them: naive UTC timestamps (fixed-width ISO text on
SQLite, as `server.db.UTCDateTime`), JSON as text (jsonb on PostgreSQL). The SQL text is ours
alone; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from pydantic_core import to_json
from sqlalchemy.orm import Session

CHUNK = 500  # rows per statement on SQLite: 500 × 12 columns stays far below its parameter limit

Columns = Sequence[tuple[str, str]]  # (name in v, PostgreSQL type)


@lru_cache(maxsize=4096)
def _utc_naive(value: datetime) -> datetime:
    """Cached, as `_sqlite_text`: a batch writes each event's time several times (event log, visit,
    touchpoint, device), and converting pydantic's aware datetimes cost more than SQLite's insert of the
    row. Equal aware datetimes are the same instant, so they share one result."""
    return value.astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _sqlite_text(value: datetime) -> str:
    return _utc_naive(value).isoformat(sep=" ", timespec="microseconds")


class Bulk:
    """A session's connection, and how its dialect takes rows and values."""

    def __init__(self, session: Session):
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"

    def ts(self, value: datetime | None) -> Any:
        """An aware datetime as the UTC timestamp columns store it."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; smartzone stores aware UTC datetimes only")
        return _sqlite_text(value) if self.sqlite else _utc_naive(value)

    @staticmethod
    def json(value: Any) -> str:
        """Compact JSON text (pydantic-core's encoder: the same text as json.dumps, several times faster)."""
        return to_json(value).decode()

    def values(self, columns: Columns, row: Mapping[str, Any]) -> tuple:
        """A row given as a mapping, in column order, each value as its column's type takes it
        (`timestamp` through `ts`, `jsonb` through `json`)."""
        return tuple(self.ts(row[name]) if pg_type == "timestamp" else self.json(row[name]) if pg_type == "jsonb"
                     else row[name] for name, pg_type in columns)

    def greatest(self, a: str, b: str) -> str:
        return f"{'max' if self.sqlite else 'GREATEST'}({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"{'min' if self.sqlite else 'LEAST'}({a}, {b})"

    def insert(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]], tail: str = "") -> list[Any]:
        """`INSERT INTO <table> (<columns>)` the rows; `tail` adds `ON CONFLICT …` and `RETURNING …`."""
        names = ", ".join(name for name, _ in columns)
        return self.run(columns, f"INSERT INTO {table} ({names}) SELECT * FROM {{v}} WHERE true {tail}", rows)

    def run(self, columns: Columns, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """Run `sql` with `{v}` standing for the rows as a table `v` with these columns; return the rows it
        returns (RETURNING, SELECT).

        Write `… FROM {v} …`, never a leading `WITH`: Python's sqlite3 opens the transaction only before
        a statement that starts with INSERT, UPDATE, DELETE or REPLACE, so a leading WITH would run
        outside the batch's transaction. An `INSERT … SELECT … FROM {v}` needs `WHERE true` before an
        `ON CONFLICT` clause (SQLite's parser asks for it): `insert` writes both."""
        if not rows:
            return []
        names = [name for name, _ in columns]
        if not self.sqlite:
            arrays = ", ".join(f"%b::{pg_type}[]" for _, pg_type in columns)
            source = f"(SELECT * FROM unnest({arrays}) AS u({', '.join(names)})) AS v"
            result = self.conn.exec_driver_sql(sql.replace("{v}", source),
                                               tuple(list(col) for col in zip(*rows, strict=True)))
            return result.all() if result.returns_rows else []
        out: list[Any] = []
        pick = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, 1))
        row_sql = "(" + ", ".join("?" * len(columns)) + ")"
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            source = f"(SELECT {pick} FROM (VALUES {', '.join([row_sql] * len(chunk))})) AS v"
            result = self.conn.exec_driver_sql(sql.replace("{v}", source), tuple(chain.from_iterable(chunk)))
            if result.returns_rows:
                out.extend(result.all())
        return out
