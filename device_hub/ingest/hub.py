"""The hub's ingest loop: receive, batch, validate, commit, then acknowledge.

One thread owns the MQTT client and the database session, so no locks are needed:
`client.loop()` reads a packet at a time; a batch is flushed when it is full, when it is
old enough, or as soon as no more messages are waiting (natural batching). PUBACKs are sent
only after the batch's transaction commits, so a crash at any point means redelivery, and
the event id makes redelivery harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from device_hub.ingest.classify import classify, dead
from device_hub.ingest.relay import OutboxRelay
from device_hub.link.mqtt import BrokerUrl, SessionOptions, connect, make_client
from device_hub.protocol.topics import hub_subscriptions
from server.ingest.records import BatchResult, DeadLetterRecord, EventRecord
from server.ingest.service import run_deferred, store_batch

log = logging.getLogger(__name__)


@dataclass
class HubCounters:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    heartbeats: int = 0
    batches: int = 0
    acked: int = 0
    reconnects: int = 0
    db_retries: int = 0


@dataclass(frozen=True)
class IngestOptions:
    batch_max: int = 500
    batch_wait_ms: int = 20
    max_payload_bytes: int = 64 * 1024
    shared_group: str | None = None
    deferred_every_ms: int = 250  # how often the domains' deferred work (queue boards) runs


class _Pending:
    __slots__ = ("mid", "payload", "qos", "received", "topic")

    def __init__(self, msg: mqtt.MQTTMessage):
        self.topic = msg.topic
        self.payload = msg.payload
        self.mid = msg.mid
        self.qos = msg.qos
        self.received = time.monotonic()


class Hub:
    """Drains device messages into the database; run() until stop is set (SIGTERM/SIGINT)."""

    def __init__(self, *, url: BrokerUrl, session: SessionOptions, db: sessionmaker[Session],
                 branches: Container[str], options: IngestOptions,
                 on_batch: Callable[[BatchResult], None] | None = None):
        self.url = url
        self.session_opts = session
        self.db = db
        self.branches = branches
        self.options = options
        self.on_batch = on_batch
        self.counters = HubCounters()
        self.connected = threading.Event()
        self._batch: list[_Pending] = []
        self._client: mqtt.Client | None = None
        self._relay: OutboxRelay | None = None
        self._next_deferred = 0.0

    # --- MQTT callbacks (run inside client.loop(), on our own thread) ---------------------

    def _on_connect(self, client, _userdata, flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        session_present = bool(getattr(flags, "session_present", False))
        log.info("connected to %s (session %s)", self.url, "resumed" if session_present else "new")
        if session_present:
            log.info("ready: session resumed, queued messages follow")
            self.connected.set()
        else:
            client.subscribe(hub_subscriptions(self.options.shared_group))  # ready once SUBACKed

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("broker refused %d of our subscriptions: %s", len(failed), failed)
        log.info("ready: subscribed to device topics")
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:
        self.connected.clear()
        if self._batch:
            # mids belong to the old connection: the broker redelivers these messages
            log.info("connection lost with %d unacknowledged messages; they will be redelivered",
                     len(self._batch))
            self._batch.clear()
        if self._relay:
            self._relay.reset()
        if reason_code == 0:
            log.info("disconnected from broker")
        else:
            log.warning("disconnected from broker: %s", reason_code)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        self._batch.append(_Pending(msg))
        self.counters.received += 1

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> HubCounters:
        client = make_client(self.url, self.session_opts, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client
        self._relay = OutboxRelay(client, self.db)
        client.on_publish = self._relay.on_publish
        self._connect_with_backoff(stop)
        wait_s = self.options.batch_wait_ms / 1000
        try:
            while not stop.is_set():
                before = self.counters.received
                rc = client.loop(timeout=0 if self._batch else 0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    self._reconnect(stop)
                    continue
                if self._batch and (
                    len(self._batch) >= self.options.batch_max
                    or self.counters.received == before
                    or time.monotonic() - self._batch[0].received >= wait_s
                ):
                    self._flush(stop)
                if time.monotonic() >= self._next_deferred:
                    self._deferred()
                self._relay.tick()
            self._shutdown(stop)
        finally:
            self._relay.close()
        return self.counters

    def _connect_with_backoff(self, stop: threading.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                connect(self._client, self.url, self.session_opts)
                return
            except OSError as err:
                log.warning("cannot reach broker %s (%s); retrying in %.1f s", self.url, err, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10)

    def _reconnect(self, stop: threading.Event) -> None:
        self.counters.reconnects += 1
        self._batch.clear()
        delay = 0.2
        while not stop.is_set():
            try:
                self._client.reconnect()
                return
            except OSError as err:
                log.warning("reconnect to %s failed (%s); retrying in %.1f s", self.url, err, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10)

    def _shutdown(self, stop: threading.Event) -> None:
        """Commit and acknowledge what we hold, let the PUBACKs out, then disconnect."""
        if self._batch and self.connected.is_set():
            self._flush(stop)
        deadline = time.monotonic() + 2
        while self._client.want_write() and time.monotonic() < deadline:
            self._client.loop_write()
        self._client.disconnect()
        self._client.loop(timeout=0.1)

    def _deferred(self) -> None:
        """The domains' deferred work, in its own transaction; a failure is logged and tried again later."""
        self._next_deferred = time.monotonic() + self.options.deferred_every_ms / 1000
        try:
            with self.db() as session, session.begin():
                sent = run_deferred(session)
        except OperationalError as err:
            log.warning("deferred work postponed, database unavailable: %s", getattr(err, "orig", err))
            return
        except Exception:  # a domain bug must not stop ingest
            log.exception("deferred work failed; trying again in %d ms", self.options.deferred_every_ms)
            return
        if sent:
            self._relay.wake()

    # --- one batch ------------------------------------------------------------------------

    def _flush(self, stop: threading.Event) -> None:
        batch, self._batch = self._batch, []
        events: list[EventRecord] = []
        raw: dict[str, _Pending] = {}  # event id → the message it came from (to dead-letter it whole)
        dead_letters: list[DeadLetterRecord] = []
        for p in batch:
            rec = classify(p.topic, p.payload, branches=self.branches,
                           max_bytes=self.options.max_payload_bytes)
            if isinstance(rec, EventRecord):
                events.append(rec)
                raw[rec.id] = p
            else:
                dead_letters.append(rec)
                log.warning("dead letter (%s) on %s: %s", rec.reason, rec.topic, rec.detail)

        result = self._store(events, dead_letters, raw, stop)
        if result is None:
            return  # stopping while the database was down: nothing acked, all will be redelivered
        for p in batch:
            if p.qos:
                self._client.ack(p.mid, p.qos)
        c = self.counters
        c.batches += 1
        c.acked += len(batch)
        c.stored += result.stored
        c.duplicates += result.duplicates
        c.dead_lettered += result.dead_lettered
        c.heartbeats += result.heartbeats
        if result.outbound:
            self._relay.wake()
        if self.on_batch:
            self.on_batch(result)

    def _store(self, events: list[EventRecord], dead_letters: list[DeadLetterRecord],
               raw: dict[str, _Pending], stop: threading.Event) -> BatchResult | None:
        """Store the batch; retry while the database is away; isolate an event that poisons it.

        Returns None only when asked to stop while the database is unavailable.
        """
        delay = 0.2
        isolate = False
        while True:
            try:
                if isolate:
                    return self._store_one_by_one(events, dead_letters, raw)
                with self.db() as session, session.begin():
                    return store_batch(session, events, dead_letters)
            except OperationalError as err:
                # the database is unreachable or busy: keep the batch, retry; nothing is acked
                self.counters.db_retries += 1
                log.error("database unavailable (%s); retrying in %.1f s", getattr(err, "orig", err), delay)
                if stop.wait(delay):
                    return None
                delay = min(delay * 2, 10)
            except Exception as err:  # a bad event or a handler bug must not stop the hub
                log.error("batch of %d failed (%s: %s); isolating the event that poisons it",
                          len(events), type(err).__name__, err)
                isolate = True

    def _store_one_by_one(self, events: list[EventRecord], dead_letters: list[DeadLetterRecord],
                          raw: dict[str, _Pending]) -> BatchResult:
        """One transaction per event; an event that still fails becomes a `store_failed` dead letter."""
        total = BatchResult()
        failed = list(dead_letters)
        for e in events:
            try:
                with self.db() as session, session.begin():
                    total.add(store_batch(session, [e]))
            except OperationalError:
                raise
            except Exception as err:
                log.exception("event %s (%s from %s/%s) cannot be stored; dead-lettering it",
                              e.id, e.type, e.branch, e.device)
                p = raw[e.id]
                failed.append(dead(p.topic, p.payload, "store_failed", f"{type(err).__name__}: {err}"))
        with self.db() as session, session.begin():
            total.add(store_batch(session, [], failed))
        return total
