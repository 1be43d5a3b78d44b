"""Notify: one notification per key, a delivery per recipient and channel, written in the caller's transaction.

The bell's deliveries are done when written (the console reads them); e-mail and webhook deliveries wait for
the `notify.deliver` job (server/notifications/scheduled.py), which sends them with retries and back-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db import insert_for
from server.errors import NotFound
from server.notifications.config import NotifyConfig, current
from server.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from server.notifications.rota import on_call


@dataclass(frozen=True)
class Message:
    """What to tell whom: the rota of `team` in `branch_id` up to `level`, plus `also` (staff ids, bell only)."""

    key: str
    branch_id: str
    team: str
    kind: str
    severity: str
    title: tuple[str, str]  # (en, zh)
    body: tuple[str, str]
    level: int = 1
    link: str | None = None
    also: tuple[int, ...] = ()


def notify(session: Session, message: Message, now: datetime, config: NotifyConfig | None = None
           ) -> Notification | None:
    """Record the notification and its deliveries; None if one with this key exists (callers may repeat)."""
    config = config or current()
    stmt = insert_for(session, Notification).on_conflict_do_nothing(index_elements=["key"]).returning(
        Notification.__table__.c.id)
    row = session.connection().execute(stmt, {
        "key": message.key[:120], "branch_id": message.branch_id, "team": message.team, "kind": message.kind,
        "severity": message.severity, "level": message.level, "title_en": message.title[0][:200],
        "title_zh": message.title[1][:200], "body_en": message.body[0][:1000], "body_zh": message.body[1][:1000],
        "link": message.link, "created_at": now}).first()
    if row is None:
        return None
    rows: list[dict[str, Any]] = []

    def add(channel: Channel, recipient: str, staff_id: int | None, status: DeliveryStatus,
            error: str | None = None) -> None:
        rows.append({"notification_id": row[0], "channel": channel.value, "recipient": recipient[:200],
                     "staff_id": staff_id, "status": status.value, "attempts": 0, "next_attempt_at": now,
                     "last_error": error, "sent_at": now if status is DeliveryStatus.SENT else None,
                     "updated_at": now})

    people = on_call(session, message.branch_id, message.team, now, level=message.level)
    told: set[int] = set()
    for person in people:
        if person.staff_id not in told:
            told.add(person.staff_id)
            add(Channel.BELL, f"staff:{person.staff_id}", person.staff_id, DeliveryStatus.SENT)
        if person.email:
            if config.smtp is None:
                add(Channel.EMAIL, person.email, person.staff_id, DeliveryStatus.DEAD,
                    "no SMTP server configured (smtp_url)")
            else:
                add(Channel.EMAIL, person.email, person.staff_id, DeliveryStatus.PENDING)
    for staff_id in message.also:
        if staff_id not in told:
            told.add(staff_id)
            add(Channel.BELL, f"staff:{staff_id}", staff_id, DeliveryStatus.SENT)
    for key, _url in config.bots_for(message.branch_id, message.team):
        add(Channel.WEBHOOK, key, None, DeliveryStatus.PENDING)
    if rows:
        session.connection().execute(
            insert_for(session, Delivery).on_conflict_do_nothing(
                index_elements=["notification_id", "channel", "recipient"]), rows)
    return session.get(Notification, row[0])


def unread_count(session: Session, staff_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.staff_id == staff_id, Delivery.channel == Channel.BELL.value, Delivery.read_at.is_(None))) or 0


def bell(session: Session, staff_id: int, *, unread_only: bool = False, limit: int = 50
         ) -> list[tuple[Delivery, Notification]]:
    """The staff member's bell, newest first."""
    stmt = (select(Delivery, Notification).join(Notification, Notification.id == Delivery.notification_id)
            .where(Delivery.staff_id == staff_id, Delivery.channel == Channel.BELL.value))
    if unread_only:
        stmt = stmt.where(Delivery.read_at.is_(None))
    return [tuple(r) for r in session.execute(stmt.order_by(Delivery.id.desc()).limit(limit))]


def mark_read(session: Session, staff_id: int, delivery_ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the staff member's bell entries read (all when `delivery_ids` is None); NotFound for another's."""
    stmt = update(Delivery).where(Delivery.staff_id == staff_id, Delivery.channel == Channel.BELL.value,
                                  Delivery.read_at.is_(None))
    if delivery_ids is not None:
        mine = set(session.scalars(select(Delivery.id).where(
            Delivery.id.in_(list(delivery_ids)), Delivery.staff_id == staff_id,
            Delivery.channel == Channel.BELL.value)))
        if set(delivery_ids) - mine:
            raise NotFound("notification_not_found", "notification not found")
        stmt = stmt.where(Delivery.id.in_(sorted(mine)))
    return session.execute(stmt.values(read_at=now, updated_at=now)).rowcount or 0


def log(session: Session, branch_id: str, *, limit: int = 100) -> list[tuple[Notification, list[Delivery]]]:
    """The branch's notifications, newest first, each with its deliveries."""
    notes = list(session.scalars(select(Notification).where(Notification.branch_id == branch_id)
                                 .order_by(Notification.id.desc()).limit(limit)))
    by_note: dict[int, list[Delivery]] = {n.id: [] for n in notes}
    if notes:
        for d in session.scalars(select(Delivery).where(Delivery.notification_id.in_(list(by_note)))
                                 .order_by(Delivery.id)):
            by_note[d.notification_id].append(d)
    return [(n, by_note[n.id]) for n in notes]
