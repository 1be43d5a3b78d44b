"""Work orders API: list, then assign → arrive → resolve → close."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from server.db import utcnow
from server.devices import queries
from server.devices.schemas import WorkOrderActionIn, WorkOrderOut
from server.devices.timeline import Timeline
from server.staff.models import Role
from server.web.deps import Audit, DbSession, Principal, branch_scope, not_found, require_roles
from server.web.validation import BRANCH_ID_PATTERN, IntId
from server.workorders.models import OPEN_STATES, WorkOrder, WorkOrderStatus
from server.workorders.service import transition

router = APIRouter(tags=["work orders"])
FleetUser = Annotated[Principal, Depends(require_roles(Role.MAINTENANCE, Role.BRANCH_MANAGER, Role.LOBBY_STAFF))]
StatusFilter = Literal["open", "assigned", "on_site", "resolved", "closed", "active", "all"]


@router.get("/api/work-orders", response_model=list[WorkOrderOut])
def list_orders(principal: FleetUser, session: DbSession,
                status: Annotated[StatusFilter, Query(description="a state, `active` (not yet resolved) or `all`")]
                = "active",
                branch: Annotated[str | None, Query(pattern=BRANCH_ID_PATTERN)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[dict]:
    """Work orders in the caller's branches, newest first."""
    stmt = select(WorkOrder).where(principal.scope(WorkOrder.branch_id))
    if branch is not None:
        stmt = stmt.where(WorkOrder.branch_id == branch)
    if status == "active":
        stmt = stmt.where(WorkOrder.status.in_(OPEN_STATES))
    elif status != "all":
        stmt = stmt.where(WorkOrder.status == WorkOrderStatus(status).value)
    orders = list(session.scalars(stmt.order_by(WorkOrder.opened_at.desc(), WorkOrder.id.desc()).limit(limit)))
    pks = queries.device_ids(session, {(o.branch_id, o.device_id) for o in orders})
    return [queries.work_order_out(o, pks.get((o.branch_id, o.device_id))) for o in orders]


@router.get("/api/work-orders/{order_id}", response_model=WorkOrderOut)
def get_order(order_id: IntId, principal: FleetUser, session: DbSession) -> dict:
    order = _load(session, principal, order_id)
    return _out(session, order)


@router.post("/api/work-orders/{order_id}/{action}", response_model=WorkOrderOut)
def act(order_id: IntId, action: Annotated[Literal["assign", "arrive", "resolve", "close"], Path()],
        principal: FleetUser, session: DbSession, audit: Audit, body: WorkOrderActionIn | None = None) -> dict:
    """Move the order on: assign (to `assignee`, default the caller), arrive, resolve (clears its alarms), close."""
    order = _load(session, principal, order_id)
    timeline = Timeline()
    transition(session, timeline, order, action, actor=principal.username, now=utcnow(),
               assignee=body.assignee if body else None, note=body.note if body else None)
    timeline.write(session)
    audit.record(f"work_order.{action}", "work_order", order.id, branch_id=order.branch_id,
                 detail={"status": order.status})
    return _out(session, order)


def _load(session: DbSession, principal: Principal, order_id: int) -> WorkOrder:
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise not_found("work order")
    branch_scope(principal, order.branch_id, "work order")
    return order


def _out(session: DbSession, order: WorkOrder) -> dict:
    key = (order.branch_id, order.device_id)
    return queries.work_order_out(order, queries.device_ids(session, {key}).get(key))
