"""Branch KPIs from visits, touchpoints, leads and device roll-ups: arrivals, tickets by business, diversion,
funnel, CSAT per device, NPS, identification, utilisation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.devices.queries import branch_utilisation
from server.referrals.models import LeadStatus, Referral
from server.referrals.service import staff_stats
from server.touchpoints.models import Touchpoint, Visit


def csat(scores: list[int]) -> float | None:
    """Share of 4-5 scores on a 1-5 scale."""
    return round(sum(1 for s in scores if s >= 4) / len(scores), 4) if scores else None


def nps(scores: list[int]) -> float | None:
    """Promoters (9-10) minus detractors (0-6), in percent, from 0-10 answers."""
    if not scores:
        return None
    return round(100 * (sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)) / len(scores), 1)


def branch_kpis(session: Session, branch_id: str, since: datetime, until: datetime) -> dict[str, Any]:
    span = until - since
    bucket = timedelta(hours=1) if span <= timedelta(days=2) else timedelta(days=1)
    starts = list(session.scalars(select(Visit.started_at).where(
        Visit.branch_id == branch_id, Visit.started_at >= since, Visit.started_at < until)))
    identified = session.scalar(select(func.count()).select_from(Visit).where(
        Visit.branch_id == branch_id, Visit.started_at >= since, Visit.started_at < until,
        Visit.customer_id.is_not(None))) or 0
    trend = Counter(since + bucket * int((t - since) / bucket) for t in starts)
    n_buckets = min(int(span / bucket) + (1 if span % bucket else 0), 400)
    arrivals = [{"at": (since + bucket * i).isoformat(), "visits": trend.get(since + bucket * i, 0)}
                for i in range(n_buckets)]

    branch = session.get(Branch, branch_id)
    channels = {b["code"]: b.get("channel") for b in (branch.config.get("business_types", []) if branch else [])}
    tickets: Counter[str] = Counter()
    scores: list[int] = []
    nps_scores: list[int] = []
    by_device: dict[str, list[int]] = {}
    for typ, detail, device in session.execute(select(Touchpoint.type, Touchpoint.detail, Touchpoint.device_id).where(
            Touchpoint.branch_id == branch_id, Touchpoint.occurred_at >= since, Touchpoint.occurred_at < until,
            Touchpoint.type.in_(("ticket_request", "survey")))):
        d = detail or {}
        if typ == "ticket_request":
            tickets[d.get("business") or "?"] += 1
        elif d.get("score") is not None:
            scores.append(int(d["score"]))
            by_device.setdefault(device, []).append(int(d["score"]))
            if d.get("nps") is not None:
                nps_scores.append(int(d["nps"]))
    total_tickets = sum(tickets.values())
    self_service = sum(n for b, n in tickets.items() if channels.get(b) == "self_service")

    funnel = dict(session.execute(select(Referral.status, func.count()).where(
        Referral.branch_id == branch_id, Referral.created_at >= since, Referral.created_at < until)
        .group_by(Referral.status)).tuples().all())
    created = sum(funnel.values())
    reached = {s: sum(n for st, n in funnel.items() if st in later) for s, later in {
        "created": [x.value for x in LeadStatus],
        "accepted": ["accepted", "met", "converted"],
        "met": ["met", "converted"],
        "converted": ["converted"]}.items()}
    value = session.scalar(select(func.coalesce(func.sum(Referral.value), 0.0)).where(
        Referral.branch_id == branch_id, Referral.created_at >= since, Referral.created_at < until,
        Referral.status == LeadStatus.CONVERTED.value)) or 0.0
    return {
        "branch_id": branch_id, "from": since.isoformat(), "to": until.isoformat(),
        "visits": len(starts), "arrivals": arrivals, "bucket": "hour" if bucket == timedelta(hours=1) else "day",
        "tickets": total_tickets, "tickets_by_business": dict(tickets),
        "diversion_rate": round(self_service / total_tickets, 4) if total_tickets else None,
        "identification_rate": round(identified / len(starts), 4) if starts else None,
        "identified_visits": identified,
        "referrals": {"funnel": reached, "by_status": funnel, "declined": funnel.get("declined", 0),
                      "expired": funnel.get("expired", 0),
                      "conversion_rate": round(reached["converted"] / created, 4) if created else None,
                      "value": float(value)},
        "satisfaction": {"surveys": len(scores), "csat": csat(scores), "nps": nps(nps_scores),
                         "nps_answers": len(nps_scores),
                         "by_device": {d: csat(s) for d, s in sorted(by_device.items())},
                         "surveys_by_device": {d: len(s) for d, s in sorted(by_device.items())}},
        "utilisation": _utilisation(session, branch, since, until),
        "staff": staff_stats(session, branch_id=branch_id, since=since, until=until),
    }


def _utilisation(session: Session, branch: Branch | None, since: datetime, until: datetime) -> dict[str, Any]:
    """How busy the self-service devices were while open (the fleet's hourly roll-ups)."""
    if branch is None:
        return {"availability": None, "utilisation": None, "devices": []}
    u = branch_utilisation(session, branch.id, branch.timezone, since, until)
    return {"availability": u["total"]["availability"], "utilisation": u["total"]["utilisation"],
            "devices": [{"device": d["name"], "utilisation": d["utilisation"], "availability": d["availability"],
                         "sessions": d["sessions"]} for d in u["devices"]]}
