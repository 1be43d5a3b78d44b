"""The edge's uplink queue in its database: in order, never behind the publisher's cursor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from server.events.store import insert_new_events
from server.ingest.records import EventRecord
from server.link import service
from wire.messages import SurveyData


def _events(n: int) -> list[EventRecord]:
    now = datetime.now(UTC)
    return [EventRecord(id=str(uuid.uuid4()), branch="b001", device="k1", seq=i, type="survey", ts=now,
                        data=SurveyData(score=5)) for i in range(n)]


def test_a_drained_queue_never_hands_out_an_id_again(migrated) -> None:
    """GIVEN events queued for the centre, sent and all confirmed (the queue is empty) WHEN more are stored
    THEN they come after the publisher's cursor, in order, so none is skipped; a repeat is queued once."""
    _engine, factory = migrated
    now = datetime.now(UTC)
    first, second = _events(3), _events(2)
    with factory() as s, s.begin():
        insert_new_events(s, first, now)
        service.enqueue(s, first, now)
        service.enqueue(s, first[:1], now)  # a redelivered batch: no second row
    with factory() as s:
        sent = service.pending(s, after=0, limit=10)
    assert [e.id for _key, e in sent] == [e.id for e in first]
    with factory() as s, s.begin():
        assert service.confirmed(s, [e.id for e in first], now, "b001") == 3
        insert_new_events(s, second, now)
        service.enqueue(s, second, now)
    with factory() as s:
        assert [e.id for _key, e in service.pending(s, after=sent[-1][0], limit=10)] == [e.id for e in second]
        assert service.status(s, "b001")["backlog"] == 2


def test_the_edge_forgets_a_face_probes_embeddings_once_the_centre_has_it(migrated) -> None:
    """GIVEN a face probe stored at the edge WHEN it waits for the centre THEN its embeddings are kept (the centre
    still needs them); once the centre confirms it, the edge's log keeps the event without them."""
    from sqlalchemy import select

    from server.events.models import Event
    from wire.messages import FaceProbeData

    _engine, factory = migrated
    now = datetime.now(UTC)
    probe = EventRecord(id=str(uuid.uuid4()), branch="b001", device="k1", seq=1, type="face_probe", ts=now,
                        data=FaceProbeData(request_id="probe-0001", embeddings=[[0.25] * 128] * 2,
                                           consent_version="v1"))
    with factory() as s, s.begin():
        insert_new_events(s, [probe], now)
        service.enqueue(s, [probe], now)

    def embeddings() -> list[list[float]]:
        with factory() as s:
            return s.scalar(select(Event.data).where(Event.id == probe.id))["embeddings"]

    assert embeddings() == [[0.25] * 128] * 2
    with factory() as s, s.begin():
        assert service.confirmed(s, [probe.id], now, "b001") == 1
    assert embeddings() == [[0.0] * 128] * 2  # the frame count stays, the face does not
