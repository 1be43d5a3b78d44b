"""The `notify.deliver` job: send due e-mail and webhook deliveries, retry with back-off, give up after a while."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.db import transaction
from server.notifications.channels import Mailer, send_webhook
from server.notifications.config import NotifyConfig, current
from server.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from server.webhooks.service import backoff

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min: given up after about an hour


def deliver_notifications(factory: sessionmaker[Session], now: datetime, config: NotifyConfig | None = None
                          ) -> dict[str, int]:
    with transaction(factory) as s:
        return deliver_due(s, config or current(), now)


def deliver_due(session: Session, config: NotifyConfig, now: datetime, limit: int = 100) -> dict[str, int]:
    """Attempt every due e-mail and webhook delivery once; counts of sent, retried and dead."""
    due = session.execute(
        select(Delivery, Notification).join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now)
        .order_by(Delivery.id).limit(limit)).all()
    out = {"sent": 0, "retried": 0, "dead": 0}
    mailer = Mailer(config.smtp) if config.smtp else None
    try:
        for d, note in due:
            d.attempts += 1
            d.updated_at = now
            error, final = _attempt(d, note, config, mailer, now)
            if error is None:
                d.status, d.sent_at, d.last_error = DeliveryStatus.SENT.value, now, None
                out["sent"] += 1
                continue
            d.last_error = error[:300]
            if final or d.attempts >= MAX_ATTEMPTS:
                d.status = DeliveryStatus.DEAD.value
                out["dead"] += 1
                log.warning("notification %s to %s %s given up: %s", note.key, d.channel, d.recipient, error)
            else:
                d.next_attempt_at = now + backoff(d.attempts)
                out["retried"] += 1
    finally:
        if mailer is not None:
            mailer.close()
    session.flush()
    return out


def _attempt(d: Delivery, note: Notification, config: NotifyConfig, mailer: Mailer | None, now: datetime
             ) -> tuple[str | None, bool]:
    """(error or None, whether the error is final)."""
    link = config.link(note.link)
    if d.channel == Channel.EMAIL:
        if mailer is None:
            return "no SMTP server configured (smtp_url)", True
        try:
            mailer.send(note, d.recipient, link, d.id)
        except smtplib.SMTPRecipientsRefused as err:
            return f"recipient refused: {err.recipients}", True
        except (smtplib.SMTPException, OSError) as err:
            mailer.close()  # a broken connection is opened again for the next one
            return f"{type(err).__name__}: {err}", False
        return None, False
    if d.channel == Channel.WEBHOOK:
        url = config.bots.get(d.recipient)
        if url is None:
            return f"no bot webhook configured for {d.recipient} any more", True
        try:
            status = send_webhook(url, config.secret, note, link, int(now.timestamp()))
        except (OSError, ValueError) as err:
            return f"{type(err).__name__}: {err}", False
        if 200 <= status < 300:
            return None, False
        return f"HTTP {status}", 400 <= status < 500 and status not in (408, 429)
    return f"channel {d.channel} is not delivered by this job", True
