"""Read-side helpers for the event log: counts for `smartzone stats` and the demo."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.devices.models import Device
from server.events.models import DeadLetter, Event
from server.outbox.models import OutboxMessage
from server.touchpoints.models import Touchpoint, Visit


def counts(session: Session) -> dict[str, int]:
    def n(model) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return {
        "events": n(Event),
        "dead_letters": n(DeadLetter),
        "devices": n(Device),
        "devices_online": int(session.scalar(select(func.count()).where(Device.online.is_(True))) or 0),
        "visits": n(Visit),
        "touchpoints": n(Touchpoint),
        "outbox_unsent": int(session.scalar(
            select(func.count()).where(OutboxMessage.sent_at.is_(None))) or 0),
    }


def dead_letter_reasons(session: Session) -> dict[str, int]:
    rows = session.execute(select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason))
    return {reason: int(n) for reason, n in rows}
