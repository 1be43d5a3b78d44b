"""The self-service clean-up job, driven with a controlled clock."""

import uuid
from datetime import timedelta

from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from server.queueing import issuing, locks, scheduled
from server.queueing.models import Ticket
from tests.queueing.test_service import MON
from wire.messages import StateData


def test_self_service_tickets_close_after_the_customer_left(migrated) -> None:
    """GIVEN a deposit ticket served at a kiosk (self-service) and a card ticket waiting for a counter
    WHEN the job runs before and after `queue.self_service_min` THEN only then is the self-service ticket done,
    and the counter ticket keeps waiting."""
    _engine, factory = migrated
    with factory() as s, s.begin():  # kiosk k1 is online, so self-service is open
        store_batch(s, [EventRecord(id=str(uuid.uuid4()), branch="b001", device="k1", seq=0, type="state",
                                    ts=MON - timedelta(minutes=5), data=StateData(online=True, session=1))])
    with factory() as s, s.begin():
        kiosk = issuing.issue(s, branch_id="b001", business="deposit", now=MON, request_id="req-self-1",
                              device_id="k1", source="kiosk").ticket
        counter = issuing.issue(s, branch_id="b001", business="loan", now=MON).ticket
        limit = locks.branch_config(s, "b001").queue.self_service_min
    assert kiosk.channel == "self_service" and kiosk.status == "serving"
    assert scheduled.close_stale_self_service(factory, MON + timedelta(minutes=limit - 1)) == 0
    assert scheduled.close_stale_self_service(factory, MON + timedelta(minutes=limit + 1)) == 1
    with factory() as s:
        assert s.get(Ticket, kiosk.id).status == "done"
        assert s.get(Ticket, counter.id).status == "waiting"
