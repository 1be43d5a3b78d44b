"""Provisional ticket numbers from the kiosk's reserved range (`K3-017`), one sequence per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Counter:
    """The last number handed out, and on which day."""

    day: date
    last: int | None


def next_number(counter: Counter, today: date, *, first: int, last: int) -> tuple[int, Counter]:
    """The next number in [first, last]: restarts each day, wraps at the end of the range."""
    if counter.day != today or counter.last is None or counter.last >= last or counter.last < first:
        n = first
    else:
        n = counter.last + 1
    return n, Counter(today, n)


def format_number(prefix: str, n: int, last: int) -> str:
    """`K3-017`: zero-padded to the width of the range's end."""
    return f"{prefix}-{n:0{max(3, len(str(last)))}d}"
