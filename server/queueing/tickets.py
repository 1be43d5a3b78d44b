"""Staff moves of one ticket (transfer, park, resume, no-show, finish) as `transitions.TRANSITIONS` allows
them, reprioritising, and closing self-service tickets whose customer has left."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import Conflict, Invalid, NotFound
from server.queueing.journey import SYSTEM, step
from server.queueing.locks import branch_config, lock_branch
from server.queueing.models import CounterState, Ticket
from server.queueing.snapshot import counter_channel
from server.queueing.transitions import TRANSITIONS, WAITING_STATES, TicketStatus, next_status
from szconfig.branch import Channel, PriorityClass


def _ticket(session: Session, ticket_id: int) -> Ticket:
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise NotFound("not_found", "ticket not found")
    return t


def _release(session: Session, t: Ticket) -> None:
    if t.counter is not None:
        row = session.get(CounterState, (t.branch_id, t.counter))
        if row is not None and row.ticket_id == t.id:
            row.ticket_id = None


def _front(session: Session, branch_id: str, now: datetime) -> datetime:
    first = session.scalar(select(func.min(Ticket.queued_at)).where(Ticket.branch_id == branch_id,
                                                                   Ticket.status.in_(WAITING_STATES)))
    return min(first - timedelta(seconds=1), now) if first else now


def apply(session: Session, *, ticket_id: int, action: str, now: datetime, actor: str = SYSTEM) -> Ticket:
    """Park, resume, no-show or finish a ticket (`action`, a key of TRANSITIONS) under its branch's lock;
    Conflict when its state does not allow that."""
    if action == "transfer":
        raise ValueError("a transfer needs its destination: call transfer()")
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    return _move(session, t, action, now, actor)


def _move(session: Session, t: Ticket, action: str, now: datetime, actor: str, *, to_front: bool = False,
          **detail: object) -> Ticket:
    """One move of TRANSITIONS: the counter freed, the new state with its timestamps, the journey's step."""
    target = next_status(t.status, action)
    move = TRANSITIONS[action]
    _release(session, t)
    if target in WAITING_STATES:  # back in line
        t.queued_at = _front(session, t.branch_id, now) if to_front or move.to_front else now
        t.counter = None
    elif target is TicketStatus.PARKED:
        t.parked_at = now
    else:  # done, no-show: the end of the journey
        t.finished_at = now
        if target is TicketStatus.DONE:  # served wherever it was (a self-service ticket done at the device)
            t.first_called_at = t.first_called_at or now
            t.called_at = t.called_at or now
    t.status = target
    step(session, t, move.step, now, actor, **detail)
    return t


def transfer(session: Session, *, ticket_id: int, now: datetime, business: str | None = None,
             counter: int | None = None, front: bool = False, actor: str = SYSTEM) -> Ticket:
    """Send a ticket on to another business (its channel) or one counter, at the front or the back of the
    line; the customer keeps the ticket (one journey, no second queuing)."""
    t = _ticket(session, ticket_id)
    cfg = branch_config(session, t.branch_id)
    lock_branch(session, t.branch_id, now)
    next_status(t.status, "transfer")  # refused before anything else is looked at
    if business is None and counter is None:
        raise Invalid("nowhere", "give a business or a counter to transfer to")
    if business is not None:
        btype = cfg.business(business)
        if btype is None:
            raise Invalid("unknown_business", f"business {business!r} is not offered here")
        t.business = business
        t.channel = (Channel.COUNTER if btype.channel is Channel.SELF_SERVICE else btype.channel).value
    if counter is not None:
        conf = next((c for c in cfg.counters if c.number == counter), None)
        if conf is None or t.business not in conf.skills:
            raise Invalid("counter_cannot_serve", f"counter {counter} does not serve {t.business}")
        t.target_counter = counter
        t.channel = counter_channel(cfg, conf.zone)
    t.called_at = None
    _move(session, t, "transfer", now, actor, to_front=front, to_business=business, to_counter=counter, front=front)
    session.flush()
    return t


def reprioritise(session: Session, *, ticket_id: int, now: datetime, priority: str, reason: str,
                 actor: str = SYSTEM) -> Ticket:
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in WAITING_STATES:
        raise Conflict("not_waiting", f"ticket is {t.status}; only waiting tickets can be reprioritised")
    t.priority = PriorityClass(priority).value
    t.reasons = [*t.reasons, {"rule": "staff", "zh": f"员工调整：{reason}", "en": f"by staff: {reason}"}]
    step(session, t, "reprioritised", now, actor, priority=priority, reason=reason)
    return t


def close_stale_self_service(session: Session, *, branch_id: str, now: datetime) -> int:
    """Self-service tickets still open after `self_service_min` are closed as done (the customer left the
    device); returns how many."""
    cfg = branch_config(session, branch_id)
    limit = now - timedelta(minutes=cfg.queue.self_service_min)
    stale = list(session.scalars(select(Ticket).where(
        Ticket.branch_id == branch_id, Ticket.channel == Channel.SELF_SERVICE.value,
        Ticket.status == TicketStatus.SERVING.value, Ticket.issued_at < limit)))
    if stale:
        lock_branch(session, branch_id, now)
    for t in stale:
        _move(session, t, "finish", now, SYSTEM, why="self_service_timeout")
    return len(stale)

