"""Tellers at counters: sign in to one counter of a branch (one teller, one counter at a time), sign out, and the
scope rule that a teller acts only on their own counter while lobby staff and managers keep the whole branch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import Conflict, Forbidden, NotFound
from server.queueing.calling import end_pause
from server.queueing.locks import branch_config, lock_branch
from server.queueing.models import CounterState, Ticket
from server.staff.models import Role


def counter_of(session: Session, staff_id: int) -> CounterState | None:
    """The counter the staff member is signed in at, if any."""
    return session.scalar(select(CounterState).where(CounterState.teller_id == staff_id))


def _row(session: Session, branch_id: str, counter: int) -> CounterState:
    cfg = branch_config(session, branch_id)
    row = session.get(CounterState, (branch_id, counter))
    if row is None or not any(c.number == counter for c in cfg.counters):
        raise NotFound("unknown_counter", f"branch {branch_id} has no counter {counter}")
    return row


def sign_in(session: Session, *, branch_id: str, counter: int, staff_id: int, staff_name: str,
            now: datetime) -> CounterState:
    """Bind the staff member to the counter and open it (a paused counter stays paused). Signing in again where
    one already is changes nothing; a counter taken by someone else, or a second counter, is refused."""
    lock_branch(session, branch_id, now)
    row = _row(session, branch_id, counter)
    mine = counter_of(session, staff_id)
    if mine is not None and (mine.branch_id, mine.number) == (branch_id, counter):
        return row
    if row.teller_id is not None:
        raise Conflict("counter_taken", f"counter {counter} is taken: {row.teller_name} is signed in there; they "
                                        "sign out first (or lobby staff sign them out)")
    if mine is not None:
        raise Conflict("signed_in_elsewhere", f"you are signed in at counter {mine.number} of {mine.branch_id}; "
                                              "sign out there first")
    try:
        with session.begin_nested():  # the unique teller_id: a sign-in at the same moment in another branch
            row.teller_id, row.teller_name, row.signed_in_at = staff_id, staff_name, now
            session.flush()
    except IntegrityError as err:
        raise Conflict("signed_in_elsewhere", "you have just signed in at another counter; sign out there "
                                              "first") from err
    row.staff_id, row.staff_name = staff_id, staff_name
    if not row.pause_reason:
        row.open = True
    row.updated_at = now
    return row


def sign_out(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str) -> CounterState:
    """Nobody at the counter any more: it closes (ending any pause). Refused while it serves a customer."""
    lock_branch(session, branch_id, now)
    row = _row(session, branch_id, counter)
    if row.teller_id is None:
        raise Conflict("not_signed_in", f"nobody is signed in at counter {counter}")
    if row.ticket_id is not None:
        raise Conflict("counter_busy", f"counter {counter} still serves a ticket; finish, park or transfer it first")
    end_pause(session, row, now, actor)
    row.teller_id, row.teller_name, row.signed_in_at = None, None, None
    row.staff_id, row.staff_name, row.open, row.updated_at = None, None, False, now
    return row


# --- scope: a teller's own counter ------------------------------------------------------------------

def is_teller(role: Role) -> bool:
    return role is Role.TELLER


def own_counter(session: Session, *, role: Role, staff_id: int, branch_id: str, counter: int) -> None:
    """A teller may act only on the counter they are signed in at; others pass (their branch scope is checked
    by the caller)."""
    if not is_teller(role):
        return
    mine = counter_of(session, staff_id)
    if mine is None:
        raise Forbidden("not_signed_in", "sign in to a counter first (the Counter page, or POST "
                                         f"/api/branches/{branch_id}/counters/{counter}/sign-in)")
    if (mine.branch_id, mine.number) != (branch_id, counter):
        raise Forbidden("not_your_counter", f"you are signed in at counter {mine.number}; counter {counter} is not "
                                            "yours")


def own_ticket(session: Session, *, role: Role, staff_id: int, ticket: Ticket) -> None:
    """A teller may move only a ticket at (or parked from) their own counter."""
    if not is_teller(role):
        return
    mine = counter_of(session, staff_id)
    if mine is None:
        raise Forbidden("not_signed_in", "sign in to a counter first (the Counter page)")
    if (ticket.branch_id, ticket.counter) != (mine.branch_id, mine.number):
        raise Forbidden("not_your_ticket", f"ticket {ticket.display} is not at your counter ({mine.number}); "
                                           "lobby staff move other tickets")


def branch_wide(role: Role, what: str) -> None:
    """Actions for the whole branch (issuing at the desk, stopping issuing) are not a teller's."""
    if is_teller(role):
        raise Forbidden("not_a_counter_action", f"{what} is for lobby staff and branch managers; tellers act on "
                                                "their own counter")
