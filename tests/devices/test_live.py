"""The console's change poller: every change made by another process is published once."""

import uuid
from datetime import timedelta

from server.db import utcnow
from server.devices.live import Poller
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from wire.messages import StateData


class Collected:
    closed = False

    def __init__(self) -> None:
        self.events: list[tuple[str, dict, str]] = []

    def publish(self, type_: str, data: dict, branch_id: str) -> None:
        self.events.append((type_, data, branch_id))


def birth_or_will(online: bool, at) -> EventRecord:
    return EventRecord(id=str(uuid.uuid4()), branch="b001", device="k1", seq=0, type="state", ts=at,
                       data=StateData(online=online, session=1))


def test_changes_are_published_once(migrated) -> None:
    """GIVEN the hub registers a kiosk (another process, as far as the console knows)
    WHEN the poller runs twice THEN the console hears of the device once; a later change (it goes
    offline) is heard again, and only for its own branch."""
    _engine, factory = migrated
    events = Collected()
    poller = Poller(factory, events)
    now = utcnow()
    with factory() as s, s.begin():
        store_batch(s, [birth_or_will(True, now)])
    poller.poll()
    poller.poll()
    devices = [e for e in events.events if e[0] == "fleet.device"]
    assert len(devices) == 1 and devices[0][1]["online"] is True and devices[0][2] == "b001"
    with factory() as s, s.begin():
        store_batch(s, [birth_or_will(False, now + timedelta(seconds=1))])
    poller.poll()
    devices = [e for e in events.events if e[0] == "fleet.device"]
    assert [d[1]["online"] for d in devices] == [True, False]
