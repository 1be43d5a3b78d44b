"""What the lobby console shows: every waiting or parked ticket with its reasons and estimate, and the
counters with the ticket each serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.queueing.locks import branch_config
from server.queueing.models import Ticket
from server.queueing.snapshot import counter_channel, estimate_for, snapshot, waiting_tickets
from server.queueing.transitions import TicketStatus
from szconfig.branch import BranchConfig


def local_time(cfg: BranchConfig, dt: datetime | None) -> str | None:
    return dt.astimezone(ZoneInfo(cfg.timezone)).strftime("%H:%M") if dt else None


def waiting_list(session: Session, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every waiting or parked ticket with its reasons, place, P50/P90 and a near-target flag."""
    cfg = branch_config(session, branch_id)
    snap = snapshot(session, cfg, now)
    waiting = waiting_tickets(session, branch_id)
    parked = list(session.scalars(select(Ticket).where(Ticket.branch_id == branch_id,
                                                       Ticket.status == TicketStatus.PARKED.value)))
    out = []
    for t in [*waiting, *parked]:
        b = cfg.business(t.business)
        waited = (now - t.issued_at).total_seconds() / 60
        ahead, est = estimate_for(t, waiting, snap) if t in waiting else (0, None)
        target = b.target_wait_min if b else 15
        expected_total = waited + (est.p50_min if est else 0)
        out.append({
            "id": t.id, "ticket": t.display, "number": t.number, "business": t.business,
            "business_name": {"zh": b.name.zh, "en": b.name.en} if b else {"zh": t.business, "en": t.business},
            "channel": t.channel, "priority": t.priority, "status": t.status, "reasons": t.reasons,
            "issued": local_time(cfg, t.issued_at), "waited_min": round(waited, 1), "people_ahead": ahead,
            "wait_p50_min": est.p50_min if est else None, "wait_p90_min": est.p90_min if est else None,
            "target_wait_min": target, "max_wait_min": b.max_wait_min if b else 30,
            "near_target": waited >= cfg.queue.alert_fraction * target or expected_total > target,
            "over_target": waited > target, "target_counter": t.target_counter,
            "provisional": t.provisional_number is not None,
        })
    return out


def counters_view(session: Session, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    cfg = branch_config(session, branch_id)
    snap = snapshot(session, cfg, now)
    out = []
    for row in snap.counters:
        conf = next((c for c in cfg.counters if c.number == row.number), None)
        if conf is None:
            continue
        cur = snap.busy.get(row.number)
        out.append({"number": row.number, "zone": conf.zone, "channel": counter_channel(cfg, conf.zone),
                    "skills": conf.skills, "open": row.open, "staff": row.staff_name,
                    "state": row.state.value, "teller": row.teller_name, "pause_reason": row.pause_reason,
                    "paused_at": local_time(cfg, row.paused_at),
                    "ticket": ({"id": cur.id, "ticket": cur.display, "business": cur.business,
                                "called": local_time(cfg, cur.called_at), "calls": cur.calls,
                                "reason": cur.call_reason} if cur else None)})
    return out

