"""What each notification says, in Chinese and English (stored rendered, so every channel says the same).

Nothing about a customer leaves beyond a pseudonymous lead number and tier: e-mail and bots may leave the bank.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.devices.i18n import MESSAGES as FLEET_TEXTS
from server.notifications.models import RotaTeam
from server.notifications.service import Message

_SEVERITY = {"CRITICAL": "严重", "MAJOR": "重要", "MINOR": "次要", "WARNING": "警告"}


def _label(prefix: str, value: str) -> tuple[str, str]:
    key = f"{prefix}.{value}"
    return FLEET_TEXTS["en"].get(key, value), FLEET_TEXTS["zh-CN"].get(key, value)


def _local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def alarm_escalated(*, alarm_id: int, branch_id: str, device_id: str, device_pk: int | None, type: str,
                    severity: str, detail: str | None, level: int, team: str, since: datetime, tz: str) -> Message:
    en, zh = _label("alarm.type", type)
    started = _local(since, tz)
    return Message(
        key=f"alarm:{alarm_id}:escalated:{level}", branch_id=branch_id, team=team, kind="alarm_escalated",
        severity=severity, level=level, link=f"/devices/{device_pk}" if device_pk else f"/branches/{branch_id}/fleet",
        title=(f"Unacknowledged alarm, level {level}: {branch_id}/{device_id} {en}",
               f"告警未确认（第 {level} 级）：{branch_id}/{device_id} {zh}"),
        body=(f"{severity} since {started} ({tz}), nobody has acknowledged it. {detail or ''}".strip(),
              f"{_SEVERITY.get(severity, severity)}，自 {started} 起无人确认。{detail or ''}".strip()))


def work_order_due(*, order_id: int, branch_id: str, device_id: str, device_pk: int | None, task: str, team: str,
                   severity: str | None, due_at: datetime, assignee: str | None, tz: str) -> Message:
    en, zh = _label("wo.task", task)
    due = _local(due_at, tz)
    who_en = f" Assigned to {assignee}." if assignee else " Nobody has taken it."
    who_zh = f"负责人：{assignee}。" if assignee else "尚无人接单。"
    return Message(
        key=f"work_order:{order_id}:due", branch_id=branch_id, team=team, kind="work_order_due",
        severity=severity or "MAJOR", level=2, link=f"/devices/{device_pk}" if device_pk else "/fleet",
        title=(f"Work order overdue: {branch_id}/{device_id} {en}", f"工单超时：{branch_id}/{device_id} {zh}"),
        body=(f"Work order #{order_id} was due at {due} ({tz}) and is not resolved.{who_en}",
              f"工单 #{order_id} 应于 {due} 前完成，仍未解决。{who_zh}"))


def lead_sla(*, lead_id: int, branch_id: str, tier: str | None, sla_due_at: datetime, escalated_to: int | None,
             tz: str) -> Message:
    due = _local(sla_due_at, tz)
    tier_en = f" ({tier} customer)" if tier else ""
    tier_zh = f"（{tier} 客户）" if tier else ""
    return Message(
        key=f"lead:{lead_id}:sla", branch_id=branch_id, team=RotaTeam.MANAGERS.value, kind="lead_sla",
        severity="MAJOR", level=1, link="/referrals", also=(escalated_to,) if escalated_to else (),
        title=(f"Lead #{lead_id} not accepted in time{tier_en}", f"商机 #{lead_id} 超时未接{tier_zh}"),
        body=(f"No customer manager accepted it by {due} ({tz}) while the customer is in the branch; "
              "it is escalated to the branch manager.",
              f"客户仍在网点，截至 {due} 无客户经理接单，已升级至网点负责人。"))
