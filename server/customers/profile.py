"""The customer 360's relationship side: the assigned manager and managers' notes (customer data: numbers in a
note are masked before it is stored; only the branch's own staff read them, every read audited by the caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.customers.models import Customer, CustomerNote
from server.customers.privacy import scrub
from server.errors import Invalid
from server.referrals.routing import managers_of
from server.staff.models import Role, Staff

NOTE_MAX = 1000
# what an AUM band means on the page (the band is declared at import; the amounts never reach smartzone)
HOLDINGS = {"0-50k": "< 50k", "50k-500k": "50k – 500k", "500k-6m": "500k – 6m", "6m+": "≥ 6m"}


def manager_of(session: Session, c: Customer) -> dict[str, Any] | None:
    """The customer's assigned manager, by name; None when nobody is."""
    if c.manager_id is None:
        return None
    row = session.execute(select(Staff.id, Staff.display_name, Staff.active).where(Staff.id == c.manager_id)).first()
    return {"id": row[0], "name": row[1], "active": row[2]} if row else None


def assignable_managers(session: Session, branch_id: str) -> list[dict[str, Any]]:
    """Active customer managers of the branch (who a customer, or a lead, may be given to) and branch managers."""
    ids = managers_of(session, [branch_id])[branch_id]
    if not ids:
        return []
    return [{"id": i, "name": n, "role": r} for i, n, r in session.execute(
        select(Staff.id, Staff.display_name, Staff.role).where(Staff.id.in_(ids)).order_by(Staff.role, Staff.id))]


def assign_manager(session: Session, c: Customer, staff_id: int | None, now: datetime) -> Customer:
    """Make `staff_id` the customer's manager (None: nobody); only a customer manager of the customer's branch."""
    if staff_id is not None and staff_id not in managers_of(session, [c.branch_id], (Role.CUSTOMER_MANAGER,))[
            c.branch_id]:
        raise Invalid("not_a_customer_manager", "assign an active customer manager of the customer's branch")
    c.manager_id, c.updated_at = staff_id, now
    session.flush()
    return c


def add_note(session: Session, c: Customer, *, body: str, author: int, now: datetime) -> CustomerNote:
    text = scrub(body.strip())
    if not text:
        raise Invalid("empty_note", "write something in the note")
    note = CustomerNote(customer_id=c.id, branch_id=c.branch_id, author_id=author, body=text[:NOTE_MAX],
                        created_at=now)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, customer_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, with the author's name."""
    rows = session.execute(select(CustomerNote, Staff.display_name).outerjoin(Staff, Staff.id == CustomerNote.author_id)
                           .where(CustomerNote.customer_id == customer_id)
                           .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc()).limit(limit))
    return [{"id": n.id, "body": n.body, "author_id": n.author_id, "author": name, "created_at": n.created_at}
            for n, name in rows]
