"""Collects timeline rows during a transaction and writes them with one executemany."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.devices.models import TimelineEntry


class Timeline:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, branch_id: str, device_id: str, at: datetime, kind: str, what: str,
            detail: dict[str, Any] | None = None) -> None:
        self.rows.append({"branch_id": branch_id, "device_id": device_id, "at": at, "kind": kind,
                          "what": what[:64], "detail": detail or {}})

    def write(self, session: Session) -> None:
        if self.rows:
            session.connection().execute(TimelineEntry.__table__.insert(), self.rows)
            self.rows = []
