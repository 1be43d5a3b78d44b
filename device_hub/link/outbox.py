"""Where a device keeps messages until the hub has confirmed their commit.

`MemoryOutbox` survives broker outages; `SqliteOutbox` (WAL, synchronous=FULL) also survives kill -9
and power loss. A row is deleted when the hub confirms it (end-to-end), or on its PUBACK for links
that do not wait for the hub. Each row keeps its envelope id, which is how confirmations find it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple, Protocol


class OutboxItem(NamedTuple):
    key: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    msg_id: str


class Outbox(Protocol):
    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, msg_id: str = "") -> int: ...
    def after(self, key: int, limit: int) -> list[OutboxItem]: ...
    def delete(self, key: int) -> None: ...
    def delete_ids(self, ids: Iterable[str]) -> list[str]: ...
    def unretain_older(self, topic: str, key: int) -> None: ...
    def __len__(self) -> int: ...


def envelope_id(payload: bytes) -> str:
    """The envelope id of a payload put without one (rare: callers normally pass it)."""
    try:
        return str(json.loads(payload)["id"])
    except (ValueError, KeyError, TypeError):
        return ""


class MemoryOutbox:
    def __init__(self) -> None:
        self._items: OrderedDict[int, OutboxItem] = OrderedDict()
        self._by_id: dict[str, int] = {}
        self._next = 1
        self._lock = threading.Lock()

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, msg_id: str = "") -> int:
        msg_id = msg_id or envelope_id(payload)
        with self._lock:
            key = self._next
            self._next += 1
            self._items[key] = OutboxItem(key, topic, payload, qos, retain, msg_id)
            if msg_id:
                self._by_id[msg_id] = key
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
            item = self._items.pop(key, None)
            if item is not None:
                self._by_id.pop(item.msg_id, None)

    def delete_ids(self, ids: Iterable[str]) -> list[str]:
        with self._lock:
            done = []
            for i in ids:
                key = self._by_id.pop(i, None)
                if key is not None:
                    self._items.pop(key, None)
                    done.append(i)
            return done

    def unretain_older(self, topic: str, key: int) -> None:
        with self._lock:
            for k, item in self._items.items():
                if k < key and item.topic == topic and item.retain:
                    self._items[k] = item._replace(retain=False)

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
                         "retain INTEGER NOT NULL, msg_id TEXT NOT NULL DEFAULT '')")
        self._upgrade()
        self._db.execute("CREATE INDEX IF NOT EXISTS outbox_msg_id ON outbox (msg_id)")
        self._lock = threading.Lock()

    def _upgrade(self) -> None:
        """An outbox written before confirmations had no msg_id column: add it and fill it from the payloads."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "msg_id" in columns:
            return
        self._db.execute("ALTER TABLE outbox ADD COLUMN msg_id TEXT NOT NULL DEFAULT ''")
        rows = self._db.execute("SELECT key, payload FROM outbox").fetchall()
        self._db.executemany("UPDATE outbox SET msg_id = ? WHERE key = ?",
                             [(envelope_id(bytes(p)), k) for k, p in rows])

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, msg_id: str = "") -> int:
        with self._lock:
            cur = self._db.execute("INSERT INTO outbox (topic, payload, qos, retain, msg_id) VALUES (?,?,?,?,?)",
                                   (topic, payload, qos, int(retain), msg_id or envelope_id(payload)))
            return int(cur.lastrowid)

    def after(self, key: int, limit: int) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute("SELECT key, topic, payload, qos, retain, msg_id FROM outbox WHERE key > ? "
                                    "ORDER BY key LIMIT ?", (key, limit)).fetchall()
        return [OutboxItem(k, t, bytes(p), q, bool(r), i) for k, t, p, q, r, i in rows]

    def delete(self, key: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE key = ?", (key,))

    def delete_ids(self, ids: Iterable[str]) -> list[str]:
        ids = list(ids)
        done: list[str] = []
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                done += [r[0] for r in self._db.execute(
                    f"DELETE FROM outbox WHERE msg_id IN ({marks}) RETURNING msg_id", chunk).fetchall()]
        return done

    def unretain_older(self, topic: str, key: int) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET retain = 0 WHERE topic = ? AND key < ? AND retain", (topic, key))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()
