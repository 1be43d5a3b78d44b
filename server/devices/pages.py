"""Maintenance console pages: fleet map with alarms and work orders, device page; live by SSE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from server.branches.models import Branch
from server.devices import live
from server.devices.commands import CommandName
from server.devices.models import Device
from server.staff.models import Role
from server.web import i18n
from server.web.deps import DbSession, Principal, branch_scope, not_found, require_page_roles
from server.web.pages import Card, NavItem, add_template_dir, register_card, register_nav, render
from server.web.validation import BranchId, IntId

router = APIRouter(include_in_schema=False)
FLEET_ROLES = frozenset({Role.MAINTENANCE, Role.BRANCH_MANAGER, Role.LOBBY_STAFF})
FleetPage = Annotated[Principal, Depends(require_page_roles(*FLEET_ROLES))]
JS_KEYS = ("fleet.ack", "fleet.comment", "fleet.no_alarms", "fleet.no_orders", "fleet.assign", "fleet.arrive",
           "fleet.resolve", "fleet.close", "fleet.presence.online", "fleet.presence.offline",
           "fleet.presence.never_seen", "fleet.presence.maintenance", "fleet.availability", "fleet.utilisation",
           "fleet.sessions", "fleet.no_data", "fleet.unavailable", "fleet.sent", "fleet.failed",
           "fleet.presence.offline.shutdown", "fleet.presence.offline.lost", "fleet.presence.offline.timeout",
           "fleet.no_report", "fleet.paper_eta", "fleet.paper_low_eta", "fleet.roll", "fleet.roll_default", "fleet.due",
           "fleet.overdue", "fleet.on_call", "fleet.orders_n", "fleet.to_ack", "fleet.to_arrive", "fleet.to_fix",
           "fleet.last_seen", "fleet.model", "wo.team.branch", "wo.team.field",
           *(f"component.{c}" for c in ("kiosk", "printer", "cardReader", "idReader", "camera", "display")))


def _branches(session: DbSession, principal: Principal) -> list[Branch]:
    return list(session.scalars(select(Branch).where(principal.scope(Branch.id)).order_by(Branch.id)))


def _labels(locale: str) -> str:
    keys = [*JS_KEYS, *(f"alarm.type.{t}" for t in _ALARM_TYPES), *(f"alarm.status.{s}" for s in _ALARM_STATUSES),
            *(f"wo.task.{t}" for t in _TASKS), *(f"wo.status.{s}" for s in _WO_STATUSES)]
    return json.dumps({k: i18n.translate(locale, k) for k in keys}, ensure_ascii=False)


@router.get("/fleet")
def fleet_home(principal: FleetPage, session: DbSession) -> Response:
    branches = _branches(session, principal)
    if not branches:
        raise not_found("branch")
    return RedirectResponse(f"/branches/{branches[0].id}/fleet", status_code=303)


@router.get("/branches/{branch_id}/fleet")
def fleet_page(branch_id: BranchId, principal: FleetPage, session: DbSession, request: Request) -> Response:
    branch_scope(principal, branch_id, "branch")
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise not_found("branch")
    live.ensure(request.app)
    zones = (branch.config or {}).get("zones", [])
    return render(request, "fleet/fleet.html", {
        "branch": branch, "branches": _branches(session, principal), "zones": zones,
        "labels": _labels(principal.locale)})


@router.get("/devices/{device_pk}")
def device_page(device_pk: IntId, principal: FleetPage, session: DbSession, request: Request) -> Response:
    dev = session.get(Device, device_pk)
    if dev is None:
        raise not_found("device")
    branch_scope(principal, dev.branch_id, "device")
    live.ensure(request.app)
    can_command = principal.role in (Role.ADMIN, Role.MAINTENANCE, Role.BRANCH_MANAGER)
    return render(request, "fleet/device.html", {
        "device": dev, "branch": session.get(Branch, dev.branch_id), "commands": [c.value for c in CommandName],
        "can_command": can_command, "labels": _labels(principal.locale)})


_ALARM_TYPES = ("DEVICE_OFFLINE", "PAPER_LOW", "PAPER_OUT", "MEDIA_JAMMED", "CARD_RETAINED", "RETAIN_BIN_HIGH",
                "RETAIN_BIN_FULL", "HARDWARE_ERROR", "CAMERA_INOP", "HIGH_ERROR_RATE")
_ALARM_STATUSES = ("ACTIVE_UNACK", "ACTIVE_ACK", "CLEARED_UNACK", "CLEARED_ACK")
_TASKS = ("refill_paper", "clear_jam", "clear_fault", "empty_retain_bin", "return_retained_card", "repair_hardware",
          "repair_camera", "restore_device")
_WO_STATUSES = ("open", "assigned", "on_site", "resolved", "closed")


def setup(app: FastAPI) -> None:
    from server.devices.i18n import MESSAGES

    add_template_dir(Path(__file__).parent / "templates")
    i18n.register_messages(MESSAGES)
    register_nav(NavItem("nav.fleet", "/fleet", FLEET_ROLES, order=50))
    register_card(Card("devices", "card.devices", "fleet/card.html", FLEET_ROLES, 20))
