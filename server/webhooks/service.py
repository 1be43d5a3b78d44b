"""Signed webhooks to an external CRM: enqueue in the domain transaction, deliver with retries and back-off.

Each request carries `X-SZ-Timestamp`, `X-SZ-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
and `Idempotency-Key`; a receiver verifies the signature, rejects old timestamps and ignores repeated keys.
After MAX_ATTEMPTS failures a delivery is `dead` (the dead-letter list); every row is the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db import insert_for
from server.errors import Conflict
from server.webhooks.models import DeliveryStatus, WebhookDelivery

MAX_ATTEMPTS = 6
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0
TIMEOUT_S = 5.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    """Exponential: 30 s, 60 s, 120 s, … capped at an hour."""
    return timedelta(seconds=min(BASE_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def enqueue(session: Session, items: Sequence[tuple[str, str, str | None, dict[str, Any]]], now: datetime) -> int:
    """items: (idempotency key, event type, branch, body); a key already queued is ignored."""
    if not items:
        return 0
    rows = [{"idempotency_key": k[:80], "event_type": t, "branch_id": b, "body": body,
             "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for k, t, b, body in items]
    stmt = insert_for(session, WebhookDelivery).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.connection().execute(stmt, rows)
    return len(rows)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the HTTP status (an error status too); OSError when the endpoint is unreachable."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def deliver_due(session: Session, *, url: str, secret: str, now: datetime, limit: int = 100) -> dict[str, int]:
    """Send due deliveries once each; returns counts of delivered, retried, dead."""
    due = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING,
                                                             WebhookDelivery.next_attempt_at <= now)
                               .order_by(WebhookDelivery.id).limit(limit)))
    out = {"delivered": 0, "retried": 0, "dead": 0}
    for d in due:
        body = json.dumps({"type": d.event_type, "id": d.idempotency_key, "data": d.body},
                          separators=(",", ":"), ensure_ascii=False, default=str).encode()
        ts = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json", "X-SZ-Timestamp": ts, "X-SZ-Signature": sign(secret, ts, body),
                   "Idempotency-Key": d.idempotency_key, "X-SZ-Event": d.event_type}
        d.attempts += 1
        try:
            status = post(url, body, headers)
            d.last_status, d.last_error = status, None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, ValueError) as err:
            status, d.last_status, d.last_error = 0, None, str(err)[:300]
        if 200 <= status < 300:
            d.status, d.delivered_at = DeliveryStatus.DELIVERED, now
            out["delivered"] += 1
        elif d.attempts >= MAX_ATTEMPTS or (400 <= status < 500 and status not in (408, 429)):
            d.status = DeliveryStatus.DEAD
            out["dead"] += 1
        else:
            d.next_attempt_at = now + backoff(d.attempts)
            out["retried"] += 1
    session.flush()
    return out


def deliveries(session: Session, scope: Any, *, status: DeliveryStatus | None, limit: int = 100
               ) -> list[WebhookDelivery]:
    """The delivery log, newest first (the dead-letter list with status=dead)."""
    stmt = select(WebhookDelivery).where(scope)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def counts(session: Session, scope: Any) -> dict[str, int]:
    found = dict(session.execute(select(WebhookDelivery.status, func.count()).where(scope)
                                 .group_by(WebhookDelivery.status)).tuples().all())
    return {s.value: found.get(s, 0) for s in DeliveryStatus}


def resend(session: Session, d: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """Queue a dead (or delivered) delivery again with a fresh set of attempts; the receiver's idempotency key
    makes a repeat harmless."""
    if d.status is DeliveryStatus.PENDING:
        raise Conflict("already_pending", "this delivery is already waiting for its next attempt")
    d.status, d.attempts, d.next_attempt_at, d.resends = DeliveryStatus.PENDING, 0, now, (d.resends or 0) + 1
    session.flush()
    return d
