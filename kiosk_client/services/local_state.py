"""The kiosk's own small state on disk (SQLite, WAL): the provisional number counter."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from kiosk_client.core.numbering import Counter, format_number, next_number
from szconfig.kiosk import LocalNumbers


class LocalNumberStore:
    """Hands out provisional numbers; the counter survives restarts so a number is never given twice a day."""

    def __init__(self, path: Path, numbers: LocalNumbers, *, today: Callable[[], date] = date.today):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.numbers = numbers
        self.today = today
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS local_numbers "
                         "(prefix TEXT PRIMARY KEY, day TEXT, last INTEGER)")
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            row = self._db.execute("SELECT day, last FROM local_numbers WHERE prefix = ?",
                                   (self.numbers.prefix,)).fetchone()
            counter = Counter(date.fromisoformat(row[0]), row[1]) if row else Counter(date.min, None)
            n, counter = next_number(counter, self.today(), first=self.numbers.first, last=self.numbers.last)
            self._db.execute("INSERT OR REPLACE INTO local_numbers (prefix, day, last) VALUES (?, ?, ?)",
                             (self.numbers.prefix, counter.day.isoformat(), counter.last))
        return format_number(self.numbers.prefix, n, self.numbers.last)

    def close(self) -> None:
        self._db.close()
