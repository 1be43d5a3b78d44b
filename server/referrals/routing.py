"""Who a new lead goes to: the customer's own manager, else the branch's on-duty manager, else the least loaded.

A `Router` answers for one batch of leads with a handful of queries, whatever the batch's size, and counts the
leads it hands out so a burst is spread as the open-lead counts would spread it one lead at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.notifications.models import RotaTeam
from server.notifications.rota import first_on_call
from server.referrals.models import OPEN, Referral, Routing
from server.staff.models import Role, Staff, StaffBranch

LEAD_ROLES = (Role.CUSTOMER_MANAGER, Role.BRANCH_MANAGER)  # who works leads (and may be given one)


def managers_of(session: Session, branch_ids: Iterable[str], roles: Iterable[Role] = LEAD_ROLES
                ) -> dict[str, list[int]]:
    """Active staff of `roles` per branch, in id order, in one query."""
    out: dict[str, list[int]] = {b: [] for b in branch_ids}
    if not out:
        return out
    for branch, staff in session.execute(
            select(StaffBranch.branch_id, Staff.id).join(StaffBranch, StaffBranch.staff_id == Staff.id)
            .where(StaffBranch.branch_id.in_(sorted(out)), Staff.role.in_([r.value for r in roles]),
                   Staff.active.is_(True)).order_by(Staff.id)):
        out[branch].append(staff)
    return out


class Router:
    """Routes the leads of one batch (one instance per transaction)."""

    def __init__(self, session: Session, branch_ids: Iterable[str], now: datetime):
        branches = sorted(set(branch_ids))
        self.leads = managers_of(session, branches)
        self.customer_managers = managers_of(session, branches, (Role.CUSTOMER_MANAGER,))
        self.on_duty: dict[str, int | None] = {}
        for b in branches:
            person = first_on_call(session, b, RotaTeam.MANAGERS.value, now)
            self.on_duty[b] = person.staff_id if person and person.staff_id in self.leads[b] else None
        self.load: dict[int, int] = dict(session.execute(
            select(Referral.assigned_to, func.count()).where(
                Referral.branch_id.in_(branches), Referral.status.in_(OPEN), Referral.assigned_to.is_not(None))
            .group_by(Referral.assigned_to)).tuples().all()) if branches else {}

    def route(self, branch_id: str, own_manager: int | None) -> tuple[int | None, Routing]:
        """(manager, how): the customer's own manager when they work here, the on-duty manager, the least loaded
        customer manager; nobody when the branch has no customer manager."""
        if own_manager is not None and own_manager in self.leads.get(branch_id, []):
            return self._give(own_manager, Routing.OWN_MANAGER)
        if (duty := self.on_duty.get(branch_id)) is not None:
            return self._give(duty, Routing.ON_DUTY)
        cms = self.customer_managers.get(branch_id, [])
        if not cms:
            return None, Routing.NONE
        return self._give(min(cms, key=lambda s: (self.load.get(s, 0), s)), Routing.LEAST_LOADED)

    def _give(self, staff_id: int, how: Routing) -> tuple[int, Routing]:
        self.load[staff_id] = self.load.get(staff_id, 0) + 1
        return staff_id, how
