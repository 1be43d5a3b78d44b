"""The edge's side of the link to the centre, run on the edge hub's MQTT thread (as the outbox relay is).

Up: every event the edge stored waits in its `uplink` table (written in the batch's transaction). This
publishes them, oldest first and with their own envelope ids, on `sz/v1/{b}/up/{d}/…` to the edge's own
broker, whose bridge carries them to the central broker (QoS 1, persistent session). The centre stores
each once and confirms on `sz/v1/{b}/link/ack`; only then does a row leave the table, so an event leaves
the edge's store only when the centre has committed it, the same guarantee a device has from the hub. At
most `window` events wait for the centre at a time; what is not confirmed within the time-out (doubling
while the centre stays silent) is sent again, which the ids make harmless.

Down: the bridge's notification (`link/state`, 1 or 0) is recorded so consoles can say the link is down;
leads (`staff/lead`) and push-downs (`push`) are kept in the edge's cache.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from device_hub.ingest.pausing import PauseOnError
from server.link import push, service
from wire import ALL_DEVICE_TYPES, TopicKind, branch_topic, decode_hub_message, encode, envelope
from wire.messages import ConfirmMessage, PushMessage, StaffLeadMessage
from wire.topics import Topic

log = logging.getLogger(__name__)

_KIND = {"state": TopicKind.STATE, "status": TopicKind.STATUS, "command_result": TopicKind.COMMAND_RESULT}
# QoS 1 publishes to the local broker not yet PUBACKed (a 10,000-event catch-up: 100 → 1,540 events/s, 500 → 2,430)
MAX_IN_FLIGHT = 500
MARK_EVERY_S = 0.2


class EdgeLink:
    """The edge hub's link to the centre: sends stored events up until confirmed, keeps what comes down."""

    def __init__(self, client: mqtt.Client, db: sessionmaker[Session], branch: str, *, window: int = 5000,
                 confirm_timeout_s: float = 30.0, max_confirm_timeout_s: float = 600.0):
        self.client, self.db, self.branch = client, db, branch
        self.window = window
        self.confirm_timeout_s = confirm_timeout_s
        self.max_confirm_timeout_s = max_confirm_timeout_s
        self.sent = 0  # publishes, resends included
        self.confirmed = 0  # rows the centre's confirmations removed
        self.resends = 0  # rounds of unconfirmed events sent again after a time-out
        self.link_up: bool | None = None
        self._timeout_s = confirm_timeout_s
        self._cursor = 0  # the last uplink row handed to paho
        self._in_flight: dict[int, tuple[int, str]] = {}  # mid → (row, event id)
        self._awaiting: dict[str, float] = {}  # event id → when the local broker took it; until the centre confirms
        self._early: set[str] = set()  # confirmed before the local broker's PUBACK
        self._done: list[str] = []  # confirmed, not yet deleted from the table
        self._next_mark = 0.0
        self._next_poll = 0.0
        self._step = PauseOnError("uplink", self._tick)
        self._next_sweep = time.monotonic() + confirm_timeout_s
        self._topics = {branch_topic(branch, k): k for k in (TopicKind.LINK_ACK, TopicKind.LINK_STATE,
                                                             TopicKind.STAFF_LEAD, TopicKind.PUSH)}

    def subscriptions(self) -> list[tuple[str, int]]:
        return [(t, 0 if k is TopicKind.LINK_ACK else 1) for t, k in self._topics.items()]

    def owns(self, topic: str) -> bool:
        return topic in self._topics

    # --- MQTT callbacks (the hub's MQTT thread) -------------------------------------------------

    def on_message(self, msg: mqtt.MQTTMessage) -> None:
        """A message of the link; QoS 1 ones are acknowledged once what they say is committed."""
        kind = self._topics[msg.topic]
        try:
            if kind is TopicKind.LINK_ACK:
                self._on_confirm(msg.payload)
            elif kind is TopicKind.LINK_STATE:
                self._on_state(msg.payload)
            else:
                self._on_down(kind, msg.payload)
        except (ValueError, KeyError, TypeError, ValidationError) as err:  # the log keeps it: the centre sent it
            log.warning("ignoring a malformed %s from the centre: %s", kind, str(err).splitlines()[0][:300])
        except Exception as err:  # the database is away: not acknowledged, so the broker delivers it again
            log.warning("could not keep a %s from the centre (%s); it comes again", kind, err)
            return
        if msg.qos:
            self.client.ack(msg.mid, msg.qos)

    def on_publish(self, mid: int) -> None:
        entry = self._in_flight.pop(mid, None)
        if entry is None:
            return
        _row, event_id = entry
        if event_id in self._early:
            self._early.discard(event_id)
        else:
            self._awaiting[event_id] = time.monotonic()

    def _on_confirm(self, payload: bytes) -> None:
        msg = decode_hub_message(payload)
        if not isinstance(msg, ConfirmMessage) or msg.branch != self.branch:
            raise ValueError(f"a {msg.type} for {msg.branch} on {self.branch}'s confirmation topic")
        named = [str(i) for i in msg.data.ids] + [str(r.id) for r in msg.data.rejected]
        for r in msg.data.rejected:  # the centre keeps it as a dead letter; sending it again cannot help
            log.error("the centre dead-lettered event %s of %s (%s); it stays in this edge's event log", r.id,
                      self.branch, r.reason)
        for i in named:
            if self._awaiting.pop(i, None) is None:
                self._early.add(i)
        self._done += named
        self._timeout_s = self.confirm_timeout_s  # the centre is answering
        if not self._next_mark:
            self._next_mark = time.monotonic() + MARK_EVERY_S

    def _on_state(self, payload: bytes) -> None:
        up = payload.strip() == b"1"
        with self.db() as s, s.begin():
            service.set_link(s, self.branch, up=up, now=datetime.now(UTC))
        if up != self.link_up:
            log.warning("link to the centre %s", "up" if up else "DOWN: serving on, events wait here")
        if up and self.link_up is False:
            self._timeout_s = self.confirm_timeout_s
        self.link_up = up

    def _on_down(self, kind: TopicKind, payload: bytes) -> None:
        if kind is TopicKind.PUSH:
            msg = decode_hub_message(payload)
            if not isinstance(msg, PushMessage) or msg.branch != self.branch:
                raise ValueError(f"a {msg.type} for {msg.branch} on {self.branch}'s push topic")
            item = msg.data
            with self.db() as s, s.begin():
                push.apply(s, branch=self.branch, kind=item.kind, key=item.key, version=item.version, data=item.data)
            return
        # a referral lead raised at the centre: cached for the edge's console
        msg = decode_hub_message(payload)
        if not isinstance(msg, StaffLeadMessage) or msg.branch != self.branch:
            raise ValueError(f"a {msg.type} for {msg.branch} on {self.branch}'s lead topic")
        version = int(msg.ts.timestamp() * 1_000_000)
        with self.db() as s, s.begin():
            service.store_cached(s, kind="lead", key=str(msg.data.lead_id), branch=self.branch,
                                 data=msg.data.model_dump(mode="json"), version=version, now=datetime.now(UTC))

    # --- the hub's loop ---------------------------------------------------------------------

    def tick(self) -> None:
        """Delete what the centre confirmed, resend what it did not in time, publish more while there is room.
        Never raises (`PauseOnError`): while the database is away it tries again a second later."""
        self._step(time.monotonic())

    def _tick(self, now: float) -> None:
        if self._done and now >= self._next_mark:
            done, self._done, self._next_mark = self._done, [], 0.0
            with self.db() as s, s.begin():
                self.confirmed += service.confirmed(s, done, datetime.now(UTC), self.branch)
            self._next_poll = 0.0
        if self._awaiting:
            self._resend_if_unconfirmed(now)
        elif not self._in_flight and now >= self._next_sweep:
            # idle: anything still in the table was never sent or its confirmation was lost; look from the start
            # (a row committed behind the cursor is found here too)
            self._cursor, self._next_sweep = 0, now + self._timeout_s
        room = min(MAX_IN_FLIGHT - len(self._in_flight), self.window - len(self._in_flight) - len(self._awaiting))
        if room <= 0 or now < self._next_poll:
            return
        with self.db() as s:
            rows = service.pending(s, after=self._cursor, limit=room)
        self._next_poll = now if len(rows) == room else now + 0.25
        flying = {r for r, _i in self._in_flight.values()}
        done = set(self._done)
        for key, e in rows:
            self._cursor = key
            if key in flying or e.id in self._awaiting or e.id in done:
                continue
            kind = _KIND.get(e.type, TopicKind.EVENT)
            topic = str(Topic(e.branch, kind, e.device, e.type if kind is TopicKind.EVENT else None, up=True))
            message = envelope(ALL_DEVICE_TYPES[e.type], id=e.id, ts=e.ts, branch=e.branch, device=e.device,
                               seq=e.seq, data=e.data)
            info = self.client.publish(topic, encode(message), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._cursor = key - 1
                break
            self._in_flight[info.mid] = (key, e.id)
            self.sent += 1

    def _resend_if_unconfirmed(self, now: float) -> None:
        oldest = next(iter(self._awaiting.values()))
        if now - oldest < self._timeout_s:
            return
        log.info("%d events not confirmed by the centre within %.0f s (link %s); sending them again",
                 len(self._awaiting), self._timeout_s, {True: "up", False: "down", None: "unknown"}[self.link_up])
        self.resends += 1
        self._timeout_s = min(self._timeout_s * 2, self.max_confirm_timeout_s)
        self._awaiting.clear()
        self._early.clear()
        self._cursor = 0
        self._next_poll = 0.0

    def reset(self) -> None:
        """The hub lost its connection to the local broker: what was in flight is sent again."""
        self._in_flight.clear()
        self._awaiting.clear()
        self._early.clear()
        self._cursor = 0
        self._next_poll = 0.0

    def close(self) -> None:
        """On the way out: delete what was confirmed (else it is sent once more on the next start)."""
        if self._done:
            try:
                with self.db() as s, s.begin():
                    service.confirmed(s, self._done, datetime.now(UTC), self.branch)
            except Exception as err:  # the database is gone: those events simply go up once more
                log.warning("could not record %d confirmations (they will be sent again): %s", len(self._done), err)
