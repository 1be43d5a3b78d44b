"""Deliver due webhooks (every 10 s) when an external CRM endpoint is configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from server.customers.config import crm
from server.db import transaction
from server.webhooks import service
from szconfig.secrets import reveal


def deliver_webhooks(factory: sessionmaker[Session], now: datetime) -> dict[str, int]:
    settings = crm().settings
    if not settings.webhook_url:
        return {"delivered": 0, "retried": 0, "dead": 0}
    with transaction(factory) as s:
        return service.deliver_due(s, url=settings.webhook_url, secret=reveal(settings.webhook_secret),
                                   now=now)
