"""Relay the server's outbox to MQTT: publish QoS 1, mark sent on PUBACK.

A row stays unsent until its PUBACK arrives, so a crash means it is sent again with the
same message id; devices match replies by request_id and ignore repeats. Each row becomes a message
with the wire contract's `envelope` (the row's kind is the message type; its data is validated once
more) and goes out `encode`d; a row that is no message of this version (one an older version wrote) is
logged and marked sent without being sent, so it cannot block the rows behind it. Acknowledged rows
are marked sent in one transaction every MARK_EVERY_S (or when many are waiting), not one per PUBACK:
a write transaction costs milliseconds, and on the hub's thread it delays the next batch; a crash in
between only means those messages go out once more.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from device_hub.ingest.pausing import PauseOnError
from server.outbox.service import mark_sent, pending
from wire import HUB_TYPES, TopicError, encode, envelope, hub_topic
from wire.messages import CommandMessage

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 100
IDLE_POLL_S = 0.25
MARK_EVERY_S = 0.2
RETRY_S = 1.0


class OutboxRelay:
    def __init__(self, client: mqtt.Client, db: sessionmaker[Session]):
        self.client = client
        self.db = db
        self._in_flight: dict[int, int] = {}  # mid → outbox row id
        self._sent: list[int] = []
        self._seq = 0
        self._next_poll = 0.0
        self._next_mark = 0.0
        self._step = PauseOnError("outbox relay", self._tick, RETRY_S)

    def wake(self) -> None:
        self._next_poll = 0.0

    def on_publish(self, _client, _userdata, mid, _reason_code, _props) -> None:
        row_id = self._in_flight.pop(mid, None)
        if row_id is not None:
            if not self._sent:
                self._next_mark = time.monotonic() + MARK_EVERY_S
            self._sent.append(row_id)

    def tick(self) -> None:
        """Publish more when there is room; now and then mark acknowledged rows sent. Cheap when idle.
        Never raises (`PauseOnError`): the hub's loop, which calls this, must keep its MQTT connection alive."""
        self._step(time.monotonic())

    def _tick(self, now: float) -> None:
        if self._sent and (now >= self._next_mark or len(self._sent) >= MAX_IN_FLIGHT):
            self._mark()
        if now < self._next_poll or len(self._in_flight) >= MAX_IN_FLIGHT:
            return
        with self.db() as session:
            rows = pending(session, limit=MAX_IN_FLIGHT)
        # a full page means more are waiting: look again on the next tick
        self._next_poll = now if len(rows) == MAX_IN_FLIGHT else now + IDLE_POLL_S
        busy = set(self._in_flight.values()) | set(self._sent)  # acknowledged, not yet marked: not again
        dropped: list[int] = []  # never sent: expired commands, and rows that are no message
        now_utc = datetime.now(UTC)
        for row in rows:
            if row.id in busy:
                continue
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                break
            built = outbox_message(row, self._seq + 1)
            if built is None:
                dropped.append(row.id)
                continue
            message, topic = built
            if isinstance(message, CommandMessage) and message.data.expires_at <= now_utc:
                dropped.append(row.id)  # past its time-to-live: the fleet's job marks the command expired
                continue
            self._seq += 1
            info = self.client.publish(topic, encode(message), qos=1, retain=row.retain)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._in_flight[info.mid] = row.id
            else:
                log.warning("could not publish outbox row %s: rc=%s", row.id, info.rc)
                break
        if dropped:
            with self.db() as session, session.begin():
                mark_sent(session, dropped)

    def _mark(self) -> None:
        with self.db() as session, session.begin():
            mark_sent(session, self._sent)
        self._sent = []  # only once marked: if the database is away they are marked on a later try

    def reset(self) -> None:
        """After a disconnect: forget in-flight mids; unsent rows go out again."""
        self._in_flight.clear()
        self._next_poll = 0.0

    def close(self) -> None:
        """On the way out: mark what was acknowledged (else it is sent once more on the next start)."""
        self.reset()
        held = len(self._sent)
        if held:
            try:
                self._mark()
            except Exception as err:  # the database is gone: those messages will simply go out again
                log.warning("could not mark %d acknowledged messages sent (they will be sent again): %s",
                            held, err)


def outbox_message(row: Any, seq: int) -> tuple[Any, str] | None:
    """The row's message and topic; None (logged) for a row that is none: an unknown kind, data the model
    refuses, or an address no topic can have."""
    try:
        message = envelope(HUB_TYPES[row.kind], id=row.message_id, ts=row.created_at, branch=row.branch_id,
                           device=row.device_id or "hub", seq=seq, data=row.data)
        return message, hub_topic(row.kind, row.branch_id, row.device_id)
    except (KeyError, ValidationError, TopicError) as err:
        log.error("outbox row %s (%s for %s/%s) is no message of this version: not sent (marked sent, kept in "
                  "the outbox table): %s", row.id, row.kind, row.branch_id, row.device_id, err)
        return None
