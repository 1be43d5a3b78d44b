"""Remote commands: checked for safety, queued while the device is offline, sent with a time-to-live.

A command becomes an outbox row carrying `wire.messages.CommandData` (command_id, name, args, expires_at)
when the device is online; otherwise it waits as `queued` and goes out with the device's next birth.
The hub's relay drops rows whose `expires_at` has passed; the expiry job marks them `expired`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from server.devices.models import CommandStatus, Device, DeviceCommand
from server.devices.timeline import Timeline
from server.outbox.service import OutboxRow, outbox_row
from wire.messages import CommandArgs, CommandData


class CommandName(StrEnum):
    OUT_OF_SERVICE = "out_of_service"
    IN_SERVICE = "in_service"
    RELOAD_CONFIG = "reload_config"
    PRINT_TEST = "print_test"
    DIAGNOSTICS = "diagnostics"
    RESTART = "restart"


def refusal(name: CommandName, status: dict[str, dict[str, Any]]) -> str | None:
    """Why the command is unsafe in the device's current state, or None (pure; the device checks again)."""
    card_inside = any(s.get("media") in ("present", "entering") for s in status.values())
    if name in (CommandName.RESTART, CommandName.RELOAD_CONFIG, CommandName.OUT_OF_SERVICE) and card_inside:
        return "a card is inside the reader"
    if name is CommandName.PRINT_TEST:
        paper = (status.get("printer") or {}).get("paper")
        if paper in ("out", "jammed"):
            return f"the printer's paper is {paper}"
    return None


def new_command_id() -> str:
    return "c-" + uuid.uuid4().hex[:20]


def create(session: Session, timeline: Timeline, dev: Device, *, name: CommandName, args: CommandArgs,
           ttl_s: int, actor: str, now: datetime) -> tuple[DeviceCommand, list[OutboxRow]]:
    """Record the command; returns it and the outbox rows to send now (none if refused or queued)."""
    cmd = DeviceCommand(command_id=new_command_id(), branch_id=dev.branch_id, device_id=dev.device_id,
                        name=name.value, args=args, requested_by=actor[:64], created_at=now,
                        expires_at=now + timedelta(seconds=ttl_s), status=CommandStatus.QUEUED.value, updated_at=now)
    reason = refusal(name, dev.status or {})
    rows: list[OutboxRow] = []
    if reason:
        cmd.status, cmd.detail, cmd.result_at = CommandStatus.REFUSED.value, reason, now
    elif dev.online:
        rows.append(_send(cmd, now))
    session.add(cmd)
    session.flush()
    timeline.add(dev.branch_id, dev.device_id, now, "command", cmd.status,
                 {"command_id": cmd.command_id, "name": cmd.name, "by": actor, "detail": cmd.detail})
    return cmd, rows


def _send(cmd: DeviceCommand, now: datetime) -> OutboxRow:
    cmd.status, cmd.sent_at, cmd.updated_at = CommandStatus.SENT.value, now, now
    return outbox_row(branch_id=cmd.branch_id, device_id=cmd.device_id, now=now, data=CommandData(
        command_id=cmd.command_id, name=cmd.name, args=cmd.args, expires_at=cmd.expires_at))


def release_queued(session: Session, keys: list[tuple[str, str]], now: datetime) -> list[OutboxRow]:
    """Devices that came back: send what waited for them (unless it expired meanwhile)."""
    if not keys:
        return []
    rows = []
    for cmd in session.scalars(select(DeviceCommand).where(
            tuple_(DeviceCommand.branch_id, DeviceCommand.device_id).in_(sorted(set(keys))),
            DeviceCommand.status == CommandStatus.QUEUED.value).order_by(DeviceCommand.id)):
        if cmd.expires_at > now:
            rows.append(_send(cmd, now))
    return rows


def apply_result(session: Session, timeline: Timeline, *, branch_id: str, device_id: str, command_id: str,
                 status: str, detail: str | None, at: datetime, now: datetime) -> DeviceCommand | None:
    cmd = session.scalars(select(DeviceCommand).where(DeviceCommand.command_id == command_id)).first()
    if cmd is None or (cmd.branch_id, cmd.device_id) != (branch_id, device_id):
        return None  # not ours, or another device answering for it: ignore
    cmd.status, cmd.detail, cmd.result_at, cmd.updated_at = status, (detail or None), at, now
    timeline.add(branch_id, device_id, at, "command", status,
                 {"command_id": command_id, "name": cmd.name, "detail": detail})
    return cmd


def expire(session: Session, now: datetime) -> int:
    """Queued or sent commands past their time-to-live, with no answer: expired."""
    n = 0
    for cmd in session.scalars(select(DeviceCommand).where(
            DeviceCommand.status.in_([CommandStatus.QUEUED.value, CommandStatus.SENT.value]),
            DeviceCommand.expires_at <= now)):
        cmd.status, cmd.result_at, cmd.updated_at = CommandStatus.EXPIRED.value, now, now
        n += 1
    return n
