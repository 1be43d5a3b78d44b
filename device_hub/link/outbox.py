"""Where a device keeps messages until the broker has acknowledged them.

`MemoryOutbox` survives broker outages; `SqliteOutbox` (WAL) also survives kill -9 and
power loss. A row is deleted only after its PUBACK.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple, Protocol


class OutboxItem(NamedTuple):
    key: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox(Protocol):
    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int: ...
    def after(self, key: int, limit: int) -> list[OutboxItem]: ...
    def delete(self, key: int) -> None: ...
    def __len__(self) -> int: ...


class MemoryOutbox:
    def __init__(self) -> None:
        self._items: OrderedDict[int, OutboxItem] = OrderedDict()
        self._next = 1
        self._lock = threading.Lock()

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        with self._lock:
            key = self._next
            self._next += 1
            self._items[key] = OutboxItem(key, topic, payload, qos, retain)
            return key

    def after(self, key: int, limit: int) -> list[OutboxItem]:
        with self._lock:
            out = []
            for k, item in self._items.items():
                if k > key:
                    out.append(item)
                    if len(out) >= limit:
                        break
            return out

    def delete(self, key: int) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class SqliteOutbox:
    """A durable outbox in one SQLite file (WAL, synchronous=FULL: a put survives power loss)."""

    def __init__(self, path: Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (key INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, "
                         "retain INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        with self._lock:
            cur = self._db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES (?,?,?,?)",
                                   (topic, payload, qos, int(retain)))
            return int(cur.lastrowid)

    def after(self, key: int, limit: int) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute("SELECT key, topic, payload, qos, retain FROM outbox WHERE key > ? "
                                    "ORDER BY key LIMIT ?", (key, limit)).fetchall()
        return [OutboxItem(k, t, bytes(p), q, bool(r)) for k, t, p, q, r in rows]

    def delete(self, key: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE key = ?", (key,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()
