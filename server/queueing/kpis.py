"""Queue KPIs per business over a period, and how far the estimates made at issue were off."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.queueing.locks import branch_config
from server.queueing.models import Ticket
from server.queueing.numbering import service_day
from server.queueing.transitions import WAITING_STATES, TicketStatus
from szconfig.branch import BranchConfig, Channel


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))], 2)


def kpis(session: Session, branch_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Per business: tickets, average and P90 wait and service, % within target, no-shows, left without
    service; and the diversion rate (share handled at self-service)."""
    cfg = branch_config(session, branch_id)
    rows = list(session.scalars(select(Ticket).where(Ticket.branch_id == branch_id, Ticket.issued_at >= start,
                                                     Ticket.issued_at < end)))
    out = []
    for b in cfg.business_types:
        ts = [t for t in rows if t.business == b.code]
        waits = [(t.first_called_at - t.issued_at).total_seconds() / 60 for t in ts if t.first_called_at]
        services = [(t.finished_at - t.called_at).total_seconds() / 60 for t in ts
                    if t.status == TicketStatus.DONE.value and t.finished_at and t.called_at
                    and t.channel != Channel.SELF_SERVICE.value]
        errors = [abs(t.est_p50_min - (t.first_called_at - t.issued_at).total_seconds() / 60) for t in ts
                  if t.first_called_at and t.est_p50_min is not None and t.channel != Channel.SELF_SERVICE.value]
        out.append({
            "business": b.code, "tickets": len(ts),
            "wait_avg_min": round(statistics.fmean(waits), 2) if waits else None, "wait_p90_min": _pct(waits, 0.9),
            "service_avg_min": round(statistics.fmean(services), 2) if services else None,
            "service_p90_min": _pct(services, 0.9),
            "within_target_pct": round(100 * sum(w <= b.target_wait_min for w in waits) / len(waits), 1)
            if waits else None,
            "no_shows": sum(t.status == TicketStatus.NO_SHOW.value for t in ts),
            "left_without_service": sum(t.status == TicketStatus.CANCELLED.value
                                        or (t.status in WAITING_STATES and t.service_day < _today(cfg, end))
                                        for t in ts),
            "estimate_mae_min": round(statistics.fmean(errors), 2) if errors else None,
        })
    diverted = sum(t.channel == Channel.SELF_SERVICE.value for t in rows)
    return {"branch": branch_id, "from": start.isoformat(), "to": end.isoformat(), "tickets": len(rows),
            "diversion_rate": round(diverted / len(rows), 3) if rows else None, "businesses": out}


def _today(cfg: BranchConfig, when: datetime) -> str:
    return service_day(min(when, datetime.now(UTC)), cfg.timezone, cfg.hours, cfg.day.issue_before_open_min).isoformat()


def estimate_mae(session: Session, branch_id: str, since: datetime) -> dict[str, float | None]:
    """Running mean absolute error of issue-time P50 estimates against actual waits, per business."""
    rows = session.execute(select(Ticket.business, Ticket.est_p50_min, Ticket.issued_at, Ticket.first_called_at)
                           .where(Ticket.branch_id == branch_id, Ticket.issued_at >= since,
                                  Ticket.first_called_at.is_not(None), Ticket.est_p50_min.is_not(None),
                                  Ticket.channel != Channel.SELF_SERVICE.value)).all()
    errs: dict[str, list[float]] = {}
    for r in rows:
        errs.setdefault(r.business, []).append(abs(r.est_p50_min - (r.first_called_at - r.issued_at)
                                                   .total_seconds() / 60))
    return {k: round(statistics.fmean(v), 2) for k, v in errs.items()}

