"""Issuing tickets: one from the lobby desk, a batch of kiosk requests from the hub, both set-based.

Idempotent by request_id (a retry gets the same ticket; a provisional number the kiosk printed offline is
attached to it, never a second ticket), numbered without gaps or repeats under the branch lock.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.appointments import service as appointments
from server.appointments.models import Appointment
from server.bulk import Bulk
from server.db import insert_for
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.outbox.service import OutboxRow
from server.queueing import estimates
from server.queueing.board import board_row
from server.queueing.cache import QueueCache
from server.queueing.hints import TierHint, crm_tiers
from server.queueing.journey import SYSTEM, step, step_row
from server.queueing.locks import branch_configs, lock_branches
from server.queueing.models import NumberCounter, Ticket
from server.queueing.numbering import format_number, service_day
from server.queueing.routing import Decision, Load, RouteRequest, route
from server.queueing.snapshot import (
    IssueContext,
    Lane,
    ahead_of_new,
    devices_free,
    estimate_for,
    snapshots,
    waiting_lanes,
    waiting_tickets,
)
from server.queueing.transitions import WAITING_STATES, TicketStatus
from szconfig import calendar
from szconfig.branch import BranchConfig, Channel, Tier
from wire.messages import RefusalCode


@dataclass(frozen=True)
class TicketRequest:
    """One request for a ticket: from a kiosk (over the hub) or from staff at the lobby desk."""

    branch_id: str
    business: str
    source: str = "staff"
    request_id: str | None = None
    device_id: str | None = None
    tier: str = Tier.REGULAR.value
    elderly: bool = False
    customer_ref: str | None = None
    visit_id: str | None = None
    appointment_code: str | None = None
    appointment_at: datetime | None = None
    phone_last4: str | None = None  # check-in by the booking phone's last four digits, with the card (customer_ref)
    provisional_number: str | None = None
    issued_at: datetime | None = None
    actor: str = SYSTEM


class BranchClosed(Conflict):
    """Outside the branch's issuing window (szconfig.calendar.issuing): `opens_at` says when it issues again."""

    def __init__(self, code: str, message: str, opens_at: datetime | None):
        super().__init__(code, message)
        self.opens_at = opens_at


def check_open(cfg: BranchConfig, now: datetime, status: calendar.Issuing | None = None) -> None:
    """Raise BranchClosed outside the branch's hours: `issuing_stopped` past the last ticket time, else `closed`.
    `status`: calendar.issuing(cfg, now), when the caller has it (once per branch and batch)."""
    status = status or calendar.issuing(cfg, now)
    if status.open:
        return
    opens = f"; tickets again from {calendar.local(cfg, status.opens_at):%Y-%m-%d %H:%M}" if status.opens_at else ""
    if status.closed is calendar.Closed.LAST_TICKET:
        raise BranchClosed(RefusalCode.ISSUING_STOPPED.value, f"the last ticket of today has been issued{opens}",
                           status.opens_at)
    holiday = calendar.holiday_name(cfg, calendar.local(cfg, now).date())
    raise BranchClosed(RefusalCode.CLOSED.value, f"the branch is closed{f' ({holiday[1]})' if holiday else ''}{opens}",
                       status.opens_at)


@dataclass
class Issued:
    ticket: Ticket
    created: bool
    people_ahead: int
    estimate: estimates.Estimate | None
    outbox: list[OutboxRow] = field(default_factory=list)
    reconciled: bool = False  # a retry brought the provisional number the customer holds


def issue(session: Session, *, branch_id: str, business: str, now: datetime, board: bool = True,
          **fields: Any) -> Issued:
    """Issue one ticket (or return the one its request_id already got); `fields` are `TicketRequest`'s.
    Raises DomainError."""
    results, contexts = issue_many(session, [TicketRequest(branch_id, business, **fields)], now)
    res = results[0]
    if isinstance(res, DomainError):
        raise res
    res.ticket = session.get(Ticket, res.ticket.id) or res.ticket  # the session's own: later changes show
    if board and (res.created or res.reconciled):
        res.outbox = [board_row(session, contexts[branch_id].cfg, now, contexts[branch_id])]
    return res


def issue_contexts(session: Session, branch_ids: Sequence[str], now: datetime,
                   cache: QueueCache | None = None) -> dict[str, IssueContext]:
    """Lock the branches and read their queues: a handful of statements however many branches. A queue the
    cache kept from this process's last change, with nothing changed since, is not read again; the queues
    as this change leaves them are staged in the cache."""
    locked = lock_branches(session, branch_ids, now)
    cfgs = branch_configs(session, sorted(locked))
    if not cfgs:
        return {}
    free = devices_free(session, list(cfgs.values()))
    contexts = {}
    for b, cfg in cfgs.items():
        issuing, version = locked[b]
        ctx = cache.get(b, cfg, version - 1, issuing, now) if cache is not None else None
        if ctx is not None:
            ctx.version, ctx.devices_free = version, free[b]
            contexts[b] = ctx
    fresh = sorted(set(cfgs) - set(contexts))
    if fresh:
        lanes, snaps = waiting_lanes(session, fresh), snapshots(session, [cfgs[b] for b in fresh], now)
        for b in fresh:
            contexts[b] = IssueContext(cfgs[b], locked[b][0], locked[b][1], lanes[b], free[b], snaps[b])
    if cache is not None:
        cache.stage(contexts)
    return contexts


def issue_many(session: Session, requests: Sequence[TicketRequest], now: datetime,
               cache: QueueCache | None = None) -> tuple[list[Issued | DomainError], dict[str, IssueContext]]:
    """Issue tickets for a batch of requests, in request order, set-based (the hub's path).

    Under the locks of the batch's branches: one read of their queues, one number-range update per
    branch and prefix, one multi-row insert of the tickets and one of their journeys' first steps. A
    request whose request_id already has a ticket (a retry, in this batch or an earlier one) gets that
    ticket, never a second. Returns each request's outcome and the contexts (for the boards). `cache`: the
    hub's (`cache.py`); without one the queues are read."""
    contexts = issue_contexts(session, sorted({r.branch_id for r in requests}), now, cache)
    known = _tickets_by_request(session, [(r.branch_id, r.request_id) for r in requests if r.request_id])
    tiers = crm_tiers(session, [(r.customer_ref, r.visit_id) for r in requests
                                if (r.customer_ref or r.visit_id) and (r.branch_id, r.request_id or "") not in known])
    claims = _check_ins(session, requests, known, contexts, now)
    booked: dict[int, int] = {}  # appointment id → index of the request that checks it in
    hours = {b: calendar.issuing(ctx.cfg, now) for b, ctx in contexts.items()}  # once per branch, not per request
    results: list[Issued | DomainError | None] = [None] * len(requests)
    rows: list[tuple[int, dict[str, Any], Decision]] = []
    first: dict[tuple[str, str], int] = {}
    repeats: list[int] = []
    for i, r in enumerate(requests):
        key = (r.branch_id, r.request_id or "")
        if r.request_id and key in known:
            results[i] = _again(session, known[key], now, r.provisional_number, r.actor, contexts[r.branch_id])
        elif r.request_id and key in first:
            repeats.append(i)
        elif r.branch_id not in contexts:
            results[i] = NotFound("not_found", "branch not found")
        else:
            try:
                if r.provisional_number is None:  # a provisional ticket was printed: the customer holds it
                    check_open(contexts[r.branch_id].cfg, now, hours[r.branch_id])
                r = _with_appointment(r, claims.get(i), booked, i)
                row, decision, results[i] = _plan(contexts[r.branch_id], r, now,
                                                  tiers.get((r.customer_ref, r.visit_id)))
            except DomainError as err:
                results[i] = err
                continue
            rows.append((i, row, decision))
            if r.request_id:
                first[key] = i
    _number(session, [row for _i, row, _d in rows])
    if rows:
        db = Bulk(session)
        tickets = [db.values(_TICKET_COLUMNS, row) for _i, row, _d in rows]
        ids = dict(db.insert("queue_tickets", _TICKET_COLUMNS, tickets, "RETURNING token, id"))
        steps = []
        for i, row, decision in rows:
            ticket = Ticket(id=ids[row["token"]], **row)
            results[i].ticket = ticket  # type: ignore[union-attr]
            steps.append(step_row(ticket, "issued", now, requests[i].actor, rule=decision.rule,
                                   reason=decision.reason_en, source=requests[i].source,
                                   provisional=requests[i].provisional_number))
        for appointment_id, i in booked.items():
            appointments.checked_in(session, appointment_id=appointment_id, ticket_id=results[i].ticket.id,  # type: ignore[union-attr]
                                    now=now)
        db.insert("queue_ticket_steps", _STEP_COLUMNS, [db.values(_STEP_COLUMNS, step) for step in steps])
    for i in repeats:
        r = requests[i]
        done = results[first[(r.branch_id, r.request_id or "")]]
        assert isinstance(done, Issued)
        if r.provisional_number and done.ticket.provisional_number is None:
            t = session.get(Ticket, done.ticket.id)
            assert t is not None
            results[i] = _again(session, t, now, r.provisional_number, r.actor, contexts[r.branch_id])
        else:
            results[i] = Issued(done.ticket, False, done.people_ahead, done.estimate)
    return results, contexts  # type: ignore[return-value]


def _check_ins(session: Session, requests: Sequence[TicketRequest], known: dict[tuple[str, str], Ticket],
               contexts: dict[str, IssueContext], now: datetime) -> dict[int, Appointment | DomainError]:
    """The appointment each new check-in request claims (by code, or phone last four and card), or why not."""
    todo = [(i, r) for i, r in enumerate(requests) if (r.appointment_code or r.phone_last4)
            and r.branch_id in contexts and (r.branch_id, r.request_id or "") not in known]
    if not todo:
        return {}
    claims = [appointments.CheckIn(r.branch_id, r.appointment_code, r.phone_last4, r.customer_ref) for _i, r in todo]
    found = appointments.find_for_check_in(session, claims, {b: c.cfg for b, c in contexts.items()}, now)
    return {i: res for (i, _r), res in zip(todo, found, strict=True)}


def _with_appointment(r: TicketRequest, claim: Appointment | DomainError | None, booked: dict[int, int],
                      i: int) -> TicketRequest:
    """The request with its appointment's code and time (the policy's priority window), or refused. Only a valid
    booking gives priority: a provisional ticket (already printed) whose claim fails is issued as a regular one."""
    if claim is None:
        return replace(r, appointment_code=None, appointment_at=r.appointment_at if r.source == "staff" else None)
    if isinstance(claim, Appointment) and claim.id in booked:
        claim = appointments.AppointmentRefused(RefusalCode.APPOINTMENT_USED.value,
                                                f"appointment {claim.code} was already checked in")
    if isinstance(claim, DomainError):
        if r.provisional_number is not None:
            return replace(r, appointment_code=None, appointment_at=None)
        raise claim
    booked[claim.id] = i
    return replace(r, appointment_code=claim.code, appointment_at=claim.slot_at, business=claim.business)


_TICKET_COLUMNS = (
    ("branch_id", "text"), ("service_day", "text"), ("number", "text"), ("display", "text"),
    ("provisional_number", "text"), ("token", "text"), ("request_id", "text"), ("device_id", "text"),
    ("source", "text"), ("business", "text"), ("channel", "text"), ("priority", "text"), ("reasons", "jsonb"),
    ("tier", "text"), ("elderly", "boolean"), ("customer_ref", "text"), ("visit_id", "text"),
    ("appointment_code", "text"), ("appointment_at", "timestamp"), ("status", "text"), ("issued_at", "timestamp"),
    ("queued_at", "timestamp"), ("called_at", "timestamp"), ("first_called_at", "timestamp"), ("calls", "integer"),
    ("est_p50_min", "float8"), ("est_p90_min", "float8"))


_STEP_COLUMNS = (("ticket_id", "integer"), ("branch_id", "text"), ("at", "timestamp"), ("action", "text"),
                 ("channel", "text"), ("business", "text"), ("counter", "integer"), ("actor", "text"),
                 ("detail", "jsonb"))


def _plan(ctx: IssueContext, r: TicketRequest, now: datetime,
          crm: TierHint | None = None) -> tuple[dict[str, Any], Decision, Issued]:
    """Route the request and estimate its wait against the branch's lines; the ticket's row, numberless.

    The tier routed on is the CRM's when it knows the customer (`crm`, with its own reason line); a kiosk's
    customer the CRM does not know is regular, whatever the request says."""
    cfg = ctx.cfg
    if crm is not None:
        r = replace(r, tier=crm.tier.value)
    elif r.source == "kiosk":
        r = replace(r, tier=Tier.REGULAR.value)
    btype = cfg.business(r.business)
    if btype is None:
        raise Invalid("unknown_business", f"business {r.business!r} is not offered in {cfg.id}; "
                         f"one of {[b.code for b in cfg.business_types]}")
    if not ctx.issuing and r.provisional_number is None:
        raise Conflict("issuing_stopped", "ticket issuing is stopped for today")
    appointment = r.appointment_code is not None or r.appointment_at is not None
    decision = route(RouteRequest(r.business, Tier(r.tier), r.elderly, appointment), btype, cfg.queue.rules,
                     Load(waiting=ctx.waiting, devices_free=ctx.devices_free, served=ctx.served))
    channel, priority = decision.channel.value, decision.priority.value
    if decision.channel is Channel.SELF_SERVICE:
        ahead, est = 0, estimates.Estimate(0.0, 0.0)
    else:
        lane = ctx.lanes.setdefault(channel, Lane())
        before = ahead_of_new(priority, lane, cfg.queue.regular_per_priority)
        ahead, est = len(before), estimates.estimate(r.business, before, ctx.snap.servers(channel), ctx.snap.stats)
        lane.add(r.business, priority)
    when = min(r.issued_at or now, now)
    self_service = decision.channel is Channel.SELF_SERVICE
    day = service_day(now, cfg.timezone, cfg.hours, cfg.day.issue_before_open_min)
    row = {"branch_id": cfg.id, "service_day": day.isoformat(),
           "number": None, "display": r.provisional_number, "provisional_number": r.provisional_number,
           "token": secrets.token_urlsafe(18)[:24], "request_id": r.request_id, "device_id": r.device_id,
           "source": r.source, "business": r.business, "channel": channel, "priority": priority,
           "reasons": [_reason(decision), *([crm.reason()] if crm and crm.tier is not Tier.REGULAR else [])],
           "tier": r.tier, "elderly": r.elderly, "customer_ref": r.customer_ref,
           "visit_id": r.visit_id, "appointment_code": r.appointment_code, "appointment_at": r.appointment_at,
           "status": TicketStatus.SERVING.value if self_service else TicketStatus.WAITING.value,
           "issued_at": when, "queued_at": when, "called_at": when if self_service else None,
           "first_called_at": when if self_service else None, "calls": 0,
           "est_p50_min": est.p50_min if est else None, "est_p90_min": est.p90_min if est else None,
           "prefix": btype.prefix}
    return row, decision, Issued(None, True, ahead, est)  # type: ignore[arg-type]  # ticket: once inserted


def _number(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give the rows without a provisional number the next numbers of their prefix, in order."""
    want: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        prefix = row.pop("prefix")
        if row["provisional_number"] is None:
            want.setdefault((row["branch_id"], prefix, row["service_day"]), []).append(row)
    first = _take_numbers(session, {(b, p): (day, len(group)) for (b, p, day), group in want.items()})
    for (branch, prefix, _day), group in want.items():
        for k, row in enumerate(group):
            row["number"] = row["display"] = format_number(prefix, first[(branch, prefix)] + k)


def _take_numbers(session: Session, want: dict[tuple[str, str], tuple[str, int]]) -> dict[tuple[str, str], int]:
    """Reserve numbers: for each (branch, prefix) → (service day, k), the first of its next k numbers.

    One `UPDATE … FROM (VALUES …) RETURNING` for all pairs, atomic per counter row (a row lock on
    PostgreSQL) and restarting at 1 when the service day changed: two workers never get the same number.
    Counter rows are created on a prefix's first use."""
    first: dict[tuple[str, str], int] = {}
    todo = dict(want)
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    for attempt in range(2):
        if not todo:
            break
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(todo))
        params = tuple(x for (b, p), (day, k) in sorted(todo.items()) for x in (b, p, day, k))
        rows = conn.exec_driver_sql(
            "UPDATE queue_numbers SET last = CASE WHEN queue_numbers.service_day = v.column3 "
            "THEN queue_numbers.last + v.column4 ELSE v.column4 END, service_day = v.column3 "
            f"FROM (VALUES {values}) AS v "
            "WHERE queue_numbers.branch_id = v.column1 AND queue_numbers.prefix = v.column2 "
            "RETURNING queue_numbers.branch_id, queue_numbers.prefix, queue_numbers.last", params)
        for b, p, last in rows:
            first[(b, p)] = int(last) - todo.pop((b, p))[1] + 1
        if todo and attempt == 0:
            ins = insert_for(session, NumberCounter).on_conflict_do_nothing(index_elements=["branch_id", "prefix"])
            conn.execute(ins, [{"branch_id": b, "prefix": p, "service_day": day, "last": 0}
                               for (b, p), (day, _k) in sorted(todo.items())])
    assert not todo, f"no number counter for {sorted(todo)}"
    return first


def _tickets_by_request(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Ticket]:
    """The tickets these (branch, request_id) pairs already got (an index lookup per pair)."""
    if not keys:
        return {}
    wanted = set(keys)
    found = session.scalars(select(Ticket).where(Ticket.branch_id.in_(sorted({b for b, _ in keys})),
                                                 Ticket.request_id.in_(sorted({r for _, r in keys}))))
    return {(t.branch_id, t.request_id): t for t in found if (t.branch_id, t.request_id) in wanted}


def _again(session: Session, t: Ticket, now: datetime, provisional_number: str | None, actor: str,
           ctx: IssueContext) -> Issued:
    """A retried request: the same ticket. A provisional number the kiosk printed meanwhile becomes the
    number the customer is called by (they hold that paper)."""
    reconciled = False
    if provisional_number and t.provisional_number is None:
        t.provisional_number = provisional_number
        t.display = provisional_number
        step(session, t, "reconciled", now, actor, number=t.number, provisional=provisional_number)
        reconciled = True
    ahead, est = 0, None
    if t.status in WAITING_STATES:
        ahead, est = estimate_for(t, waiting_tickets(session, t.branch_id), ctx.snap)
    return Issued(t, False, ahead, est, reconciled=reconciled)


def _reason(d: Decision) -> dict[str, str]:
    return {"rule": d.rule, "zh": d.reason_zh, "en": d.reason_en}

