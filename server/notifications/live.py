"""The bell, live: new bell entries (written by the jobs, maybe in another process) become `notify.bell` events
for their staff member only, with the new unread count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.db import utcnow
from server.notifications.models import Channel, Delivery, Notification
from server.notifications.service import unread_count
from server.web import live


def ensure(app: Any) -> None:
    live.ensure(app, BellPoller)


class BellPoller(live.ChangePoller):
    name = "bell"

    def poll(self) -> int:
        now = utcnow()
        n = 0
        with self.factory() as s:
            rows = s.execute(select(Delivery.id, Delivery.staff_id, Delivery.updated_at, Notification)
                             .join(Notification, Notification.id == Delivery.notification_id)
                             .where(Delivery.channel == Channel.BELL.value, Delivery.staff_id.is_not(None),
                                    Delivery.updated_at >= self.since - self.overlap)
                             .order_by(Delivery.id)).all()
            for delivery_id, staff_id, updated_at, note in rows:
                if not self.first_time(delivery_id, updated_at):
                    continue
                self.events.publish("notify.bell", {
                    "unread": unread_count(s, staff_id), "id": delivery_id, "severity": note.severity,
                    "title": {"en": note.title_en, "zh-CN": note.title_zh}, "link": note.link},
                    branch_id=note.branch_id, staff_id=staff_id)
                n += 1
        self.advance(now)
        return n
