"""Customer jobs: nightly tag and tier re-evaluation, nightly purge of face templates past retention."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.customers import service
from server.customers.config import crm
from server.customers.models import Customer
from server.db import transaction

log = logging.getLogger(__name__)
CHUNK = 500


def reevaluate_customers(factory: sessionmaker[Session], now: datetime) -> int:
    """Every customer, in chunks (activity windows move on even without new touchpoints)."""
    changed, last = 0, 0
    while True:
        with transaction(factory) as s:
            ids = list(s.scalars(select(Customer.id).where(Customer.id > last).order_by(Customer.id).limit(CHUNK)))
            if not ids:
                return changed
            changed += service.evaluate_customers(s, ids, now)
            last = ids[-1]


def purge_templates(factory: sessionmaker[Session], now: datetime) -> int:
    with transaction(factory) as s:
        n = service.purge_templates(s, now=now, retention_days=crm().settings.template_retention_days)
    if n:
        log.info("purged %d face templates unused for %d days", n, crm().settings.template_retention_days)
    return n
