"""Counters: call the next ticket the policy picks (or preview it), recall it, finish it; open, close, pause with a
reason and resume counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import Conflict, NotFound
from server.outbox.service import OutboxRow
from server.queueing import policy
from server.queueing.board import board_row, call_row
from server.queueing.journey import SYSTEM, step
from server.queueing.locks import branch_config, lock_branch
from server.queueing.models import CounterPause, CounterState, Ticket
from server.queueing.snapshot import counter_channel, served_by, waiting_tickets
from server.queueing.transitions import PauseReason, TicketStatus
from szconfig.branch import BranchConfig, Channel, PriorityClass


@dataclass
class CallResult:
    ticket: Ticket | None
    outbox: list[OutboxRow]
    finished: Ticket | None = None


def _counter(session: Session, cfg: BranchConfig, number: int) -> tuple[CounterState, Any]:
    conf = next((c for c in cfg.counters if c.number == number), None)
    row = session.get(CounterState, (cfg.id, number))
    if conf is None or row is None:
        raise NotFound("not_found", "counter not found")
    return row, conf


def _finish_current(session: Session, row: CounterState, now: datetime, actor: str) -> Ticket | None:
    if row.ticket_id is None:
        return None
    t = session.get(Ticket, row.ticket_id)
    row.ticket_id = None
    if t is None or t.status not in (TicketStatus.CALLED.value, TicketStatus.SERVING.value):
        return None
    t.status, t.finished_at = TicketStatus.DONE.value, now
    step(session, t, "finished", now, actor)
    return t


def call_next(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM,
              staff_name: str | None = None, board: bool = True) -> CallResult:
    """Finish the counter's current ticket and call the next one the policy picks (None: nobody)."""
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, conf = _counter(session, cfg, counter)
    if row.pause_reason:
        raise Conflict("counter_paused", f"counter {counter} is paused ({row.pause_reason}); resume it first")
    if not row.open:
        raise Conflict("counter_closed", f"counter {counter} is closed; open it first")
    finished = _finish_current(session, row, now, actor)
    if staff_name and row.teller_id is None:
        row.staff_name = staff_name
    waiting, choice = _choose(session, cfg, row, conf, now)
    out: list[OutboxRow] = []
    ticket = None
    if choice is not None:
        ticket = next(t for t in waiting if t.id == choice.ticket_id)
        ticket.status, ticket.counter, ticket.called_at = TicketStatus.CALLED.value, counter, now
        ticket.first_called_at = ticket.first_called_at or now
        ticket.calls += 1
        ticket.target_counter = None
        ticket.call_reason = {"rule": choice.rule, "zh": choice.reason_zh, "en": choice.reason_en}
        row.ticket_id, row.regular_streak = ticket.id, choice.regular_streak
        step(session, ticket, "called", now, actor, rule=choice.rule, reason=choice.reason_en)
        out.append(call_row(cfg, ticket, now))
    row.updated_at = now
    if board and (ticket or finished):
        out.append(board_row(session, cfg, now))
    return CallResult(ticket, out, finished)


def _choose(session: Session, cfg: BranchConfig, row: CounterState, conf: Any,
            now: datetime) -> tuple[list[Ticket], policy.Choice | None]:
    """The waiting tickets the counter may take, and the one the policy picks for it now."""
    counter = row.number
    waiting = [t for t in waiting_tickets(session, cfg.id) if t.target_counter in (None, counter)]
    tz = ZoneInfo(cfg.timezone)
    cands = [policy.Candidate(t.id, t.business, Channel(t.channel), PriorityClass(t.priority), t.queued_at,
                              t.issued_at, float(_max_wait(cfg, t.business)),
                              t.appointment_at.astimezone(tz) if t.appointment_at else None) for t in waiting]
    view = policy.CounterView(counter, Channel(counter_channel(cfg, conf.zone)), frozenset(conf.skills))
    settings = policy.PolicySettings(cfg.queue.regular_per_priority, cfg.queue.appointment_window_min,
                                     cfg.queue.aging_fraction)
    return waiting, policy.choose(cands, view, now, regular_streak=row.regular_streak, settings=settings,
                                  served=_served(session, cfg))


def preview(session: Session, *, branch_id: str, counter: int, now: datetime) -> tuple[Ticket, Any] | None:
    """Who `call_next` would call at the counter now, and why (read only: no lock, nothing changes)."""
    cfg = branch_config(session, branch_id)
    row, conf = _counter(session, cfg, counter)
    waiting, choice = _choose(session, cfg, row, conf, now)
    if choice is None:
        return None
    return next(t for t in waiting if t.id == choice.ticket_id), choice


def _served(session: Session, cfg: BranchConfig) -> dict[Channel, frozenset[str]]:
    """Per channel: the businesses its open counters have the skill for."""
    return served_by(cfg, set(session.scalars(select(CounterState.number).where(
        CounterState.branch_id == cfg.id, CounterState.open.is_(True)))))


def _max_wait(cfg: BranchConfig, business: str) -> int:
    b = cfg.business(business)
    return b.max_wait_min if b else 30


def recall(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM) -> CallResult:
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    t = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    if t is None or t.status != TicketStatus.CALLED.value:
        raise Conflict("nothing_called", f"counter {counter} has no called ticket to recall")
    t.calls += 1
    step(session, t, "recalled", now, actor)
    return CallResult(t, [call_row(cfg, t, now, recall=True), board_row(session, cfg, now)])


def finish(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM) -> CallResult:
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    t = _finish_current(session, row, now, actor)
    if t is None:
        raise Conflict("nothing_called", f"counter {counter} serves no ticket")
    row.updated_at = now
    return CallResult(None, [board_row(session, cfg, now)], t)


def set_counter(session: Session, *, branch_id: str, counter: int, open: bool, now: datetime,
                staff_id: int | None = None, staff_name: str | None = None, actor: str = SYSTEM) -> CounterState:
    """Open a counter (ending any pause) or close it (nobody at it: its teller is signed out)."""
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    if not open and row.ticket_id is not None:
        raise Conflict("counter_busy", f"counter {counter} still serves a ticket; finish it first")
    end_pause(session, row, now, actor)
    row.open, row.updated_at = open, now
    if open and row.teller_id is None:
        row.staff_id, row.staff_name = staff_id, staff_name
    elif not open:
        row.staff_id, row.staff_name = None, None
        row.teller_id, row.teller_name, row.signed_in_at = None, None, None
    return row


def pause(session: Session, *, branch_id: str, counter: int, reason: PauseReason, now: datetime,
          note: str | None = None, actor: str = SYSTEM) -> CounterState:
    """The counter stops serving for a while (lunch, a meeting, a fault), its teller stays signed in; the pause is
    kept in `queue_counter_pauses`. Only an open counter with no customer at it may pause."""
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    if row.pause_reason:
        raise Conflict("counter_paused", f"counter {counter} is already paused ({row.pause_reason})")
    if not row.open:
        raise Conflict("counter_closed", f"counter {counter} is closed; only an open counter can pause")
    if row.ticket_id is not None:
        raise Conflict("counter_busy", f"counter {counter} still serves a ticket; finish, park or transfer it first")
    row.open, row.updated_at = False, now
    row.pause_reason, row.pause_note, row.paused_at = PauseReason(reason).value, note, now
    session.add(CounterPause(branch_id=branch_id, counter=counter, reason=row.pause_reason, note=note,
                             started_at=now, paused_by=actor[:64]))
    return row


def resume(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM) -> CounterState:
    """A paused counter serves again."""
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    if not row.pause_reason:
        raise Conflict("counter_not_paused", f"counter {counter} is not paused")
    end_pause(session, row, now, actor)
    row.open, row.updated_at = True, now
    return row


def end_pause(session: Session, row: CounterState, now: datetime, actor: str) -> None:
    """Clear the counter's pause, if any, and close its record."""
    if not row.pause_reason:
        return
    kept = session.scalar(select(CounterPause).where(
        CounterPause.branch_id == row.branch_id, CounterPause.counter == row.number,
        CounterPause.ended_at.is_(None)).order_by(CounterPause.id.desc()).limit(1))
    if kept is not None:
        kept.ended_at, kept.resumed_by = now, actor[:64]
    row.pause_reason, row.pause_note, row.paused_at = None, None, None
