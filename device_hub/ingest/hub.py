"""The hub's ingest loop: receive, batch, validate, commit, then acknowledge.

Two threads. The MQTT thread owns the client: `client.loop()` reads a packet at a time, each
message is classified (pure validation), and a batch is handed to the database thread when it is
full, old enough, or as soon as no more messages are waiting (natural batching). The database
thread stores the batch in one transaction and runs the domains' deferred work on its own clock.
PUBACKs are sent by the MQTT thread only after the batch's transaction commits, so a crash at any
point means redelivery, and the event id makes redelivery harmless. Then each device of the batch is
told which of its events are committed (`confirm.py`): only then does it delete them, so a broker that
loses what it held (kill -9, power cut) loses nothing a device still has. While one batch commits the
next is read: the database drivers release the GIL, so socket and database work overlap (the
broker must allow more messages in flight than one batch: see docs/brokers.md).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from device_hub.ingest.classify import Limits, classify, dead
from device_hub.ingest.confirm import confirmations
from device_hub.ingest.relay import OutboxRelay
from device_hub.ingest.uplink import EdgeLink
from device_hub.link.mqtt import BrokerUrl, SessionOptions, connect, make_client
from server.ingest.kept import Kept
from server.ingest.records import BatchResult, DeadLetterRecord, EventRecord
from server.ingest.service import run_deferred, store_batch
from szconfig.roles import Role
from wire.topics import hub_subscriptions

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
    confirmations: int = 0  # end-to-end acknowledgement messages sent to devices
    reconnects: int = 0
    db_retries: int = 0


@dataclass(frozen=True)
class IngestOptions:
    batch_max: int = 500
    batch_wait_ms: int = 20
    max_payload_bytes: int = 64 * 1024
    shared_group: str | None = None
    deferred_every_ms: int = 250  # how often the domains' deferred work (queue boards) runs
    confirm: bool = True  # tell devices which events are committed (end-to-end acknowledgement)
    max_clock_ahead_s: float = 600  # an event dated further ahead of our clock is dead-lettered (clock_skew)
    max_event_age_s: float = 30 * 86400  # … and one older than this
    role: Role = Role.ALL  # which domain handlers and deferred work run here (server.ingest.handlers)
    branch: str | None = None  # role edge: the branch it serves (its events go up to the centre)
    uplink_confirm_timeout_s: float = 30.0  # role edge: an event the centre has not confirmed by then goes again
    uplink_window: int = 5000  # role edge: events sent up and not yet confirmed, at most

    def subscriptions(self) -> list[tuple[str, int]]:
        """Device topics (shared when there are several workers); at the centre also what edges send up."""
        return hub_subscriptions(self.shared_group, uplink=self.role is Role.CENTRAL)

    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_payload_bytes, max_ahead=timedelta(seconds=self.max_clock_ahead_s),
                      max_age=timedelta(seconds=self.max_event_age_s))


class _Pending:
    """A message received and classified (on the MQTT thread, which has time to spare), not yet acknowledged."""

    __slots__ = ("mid", "payload", "qos", "received", "record", "topic")

    def __init__(self, msg: mqtt.MQTTMessage, record: EventRecord | DeadLetterRecord):
        self.topic = msg.topic
        self.payload = msg.payload
        self.mid = msg.mid
        self.qos = msg.qos
        self.received = time.monotonic()
        self.record = record


@dataclass
class _Batch:
    """Messages handed to the database thread; `connection` tells whether their mids are still ours."""

    messages: list[_Pending]
    connection: int
    result: BatchResult | None = None  # None: not stored (asked to stop while the database was down)
    sent: int = 0  # outbound messages the domains' deferred work enqueued meanwhile


HANDED_MAX = 2  # batches with the database thread (one committing, one waiting); more waits in the MQTT thread


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
        self._connection = 0  # bumped on every disconnect: an older connection's mids are never acknowledged
        self._handed = 0  # batches with the database thread, not yet collected
        self._to_db: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._from_db: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        self._client: mqtt.Client | None = None
        self._relay: OutboxRelay | None = None
        self.link: EdgeLink | None = None  # role edge: the link to the centre
        self._db_thread: threading.Thread | None = None
        self._next_deferred = 0.0
        self._limits = options.limits()
        self._confirm_seq = itertools.count(1)
        self._kept = Kept()  # what this process committed (each branch's queue), used only on the database thread

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
            client.subscribe(self.options.subscriptions() + (self.link.subscriptions() if self.link else []))
            # ready once SUBACKed

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("broker refused %d of our subscriptions: %s", len(failed), failed)
        log.info("ready: subscribed to device topics")
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:
        self.connected.clear()
        self._connection += 1
        if self._batch:
            # mids belong to the old connection: the broker redelivers these messages
            log.info("connection lost with %d unacknowledged messages; they will be redelivered",
                     len(self._batch))
            self._batch.clear()
        if self._relay:
            self._relay.reset()
        if self.link:
            self.link.reset()
        if reason_code == 0:
            log.info("disconnected from broker")
        else:
            log.warning("disconnected from broker: %s", reason_code)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        if self.link and self.link.owns(msg.topic):
            self.link.on_message(msg)
            return
        record = classify(msg.topic, msg.payload, branches=self.branches, now=datetime.now(UTC),
                          limits=self._limits)
        self._batch.append(_Pending(msg, record))
        self.counters.received += 1

    def _on_publish(self, client, userdata, mid, reason_code, props) -> None:
        self._relay.on_publish(client, userdata, mid, reason_code, props)
        if self.link:
            self.link.on_publish(mid)

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> HubCounters:
        client = make_client(self.url, self.session_opts, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client
        self._relay = OutboxRelay(client, self.db)
        if self.options.role is Role.EDGE:
            self.link = EdgeLink(client, self.db, self.options.branch or "", window=self.options.uplink_window,
                                 confirm_timeout_s=self.options.uplink_confirm_timeout_s)
        client.on_publish = self._on_publish
        self._db_thread = threading.Thread(target=self._db_loop, args=(stop,), daemon=True,
                                           name=f"{threading.current_thread().name}-db")
        self._db_thread.start()
        self._connect_with_backoff(stop)
        wait_s = self.options.batch_wait_ms / 1000
        try:
            while not stop.is_set():
                before = self.counters.received
                room = self._handed < HANDED_MAX
                # while the database thread works, look for its results every millisecond (never spin:
                # it needs the GIL more than we do)
                rc = client.loop(timeout=0 if self._batch and room else 0.001 if self._handed else 0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    self._reconnect(stop)
                    continue
                if self._batch and room and (
                    len(self._batch) >= self.options.batch_max
                    or self.counters.received == before
                    or time.monotonic() - self._batch[0].received >= wait_s
                ):
                    self._hand_over()
                self._collect()
                self._relay.tick()
                if self.link:
                    self.link.tick()
                if not self._db_thread.is_alive():
                    raise RuntimeError("the hub's database thread stopped (see the error above); "
                                       "nothing it held was acknowledged")
            self._shutdown(stop)
        finally:
            self._to_db.put(None)
            self._db_thread.join()
            self._relay.close()
            if self.link:
                self.link.close()
        return self.counters

    def _hand_over(self) -> None:
        batch, self._batch = self._batch, []
        self._to_db.put(_Batch(batch, self._connection))
        self._handed += 1

    def _collect(self, wait_s: float | None = None) -> None:
        """Acknowledge the batches the database thread has committed (waiting up to `wait_s` for one)."""
        while True:
            try:
                done = self._from_db.get(timeout=wait_s) if wait_s else self._from_db.get_nowait()
            except queue.Empty:
                return
            wait_s = None
            if done.sent:
                self._relay.wake()
            if not done.messages:
                continue  # only the deferred work's news
            self._handed -= 1
            self._acknowledge(done)

    def _acknowledge(self, done: _Batch) -> None:
        result = done.result
        if result is None:
            return  # stopping while the database was down: nothing acked, all will be redelivered
        if done.connection != self._connection:
            log.info("committed %d messages of a lost connection; the broker redelivers them and they are "
                     "recognised as duplicates", len(done.messages))
        else:
            for p in done.messages:
                if p.qos:
                    self._client.ack(p.mid, p.qos)
            self.counters.acked += len(done.messages)
        if self.options.confirm:
            self._confirm(done.messages, result)
        c = self.counters
        c.batches += 1
        c.stored += result.stored
        c.duplicates += result.duplicates
        c.dead_lettered += result.dead_lettered
        c.heartbeats += result.heartbeats
        if result.outbound:
            self._relay.wake()
        if self.on_batch:
            self.on_batch(result)

    def _confirm(self, messages: list[_Pending], result: BatchResult) -> None:
        """Committed: tell each device (QoS 0; a lost one means a harmless resend). Whether or not this
        connection is the one the messages came on: what is committed is committed."""
        if not self.connected.is_set():
            return
        records = [p.record for p in messages if p.qos]
        for topic, payload in confirmations(records, result.rejected, seq=self._confirm_seq,
                                            now=datetime.now(UTC)):
            self._client.publish(topic, payload, qos=0)
            self.counters.confirmations += 1

    # --- the database thread ----------------------------------------------------------------

    def _db_loop(self, stop: threading.Event) -> None:
        """Store the batches handed over, in order; run the deferred work when it is due. Until None."""
        try:
            while True:
                try:
                    batch = self._to_db.get(timeout=max(0.0, self._next_deferred - time.monotonic()))
                except queue.Empty:
                    batch = _Batch([], self._connection)
                if batch is None:
                    return
                if batch.messages:
                    batch.result = self._store_messages(batch.messages, stop)
                if time.monotonic() >= self._next_deferred:
                    batch.sent = self._deferred()
                if batch.messages or batch.sent:
                    self._from_db.put(batch)
        except BaseException:  # the MQTT thread sees this thread gone and stops the hub
            log.exception("the hub's database thread failed")
            raise

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
        self._connection += 1
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
            self._hand_over()
        while self._handed and self._db_thread.is_alive():
            self._collect(wait_s=1.0)
        deadline = time.monotonic() + 2
        while self._client.want_write() and time.monotonic() < deadline:
            self._client.loop_write()
        self._client.disconnect()
        self._client.loop(timeout=0.1)

    def _deferred(self) -> int:
        """The domains' deferred work, in its own transaction; a failure is logged and tried again later.
        Returns how many outbound messages it enqueued."""
        self._next_deferred = time.monotonic() + self.options.deferred_every_ms / 1000
        try:
            with self.db() as session, session.begin():
                return run_deferred(session, kept=self._kept, role=self.options.role)
        except OperationalError as err:
            log.warning("deferred work postponed, database unavailable: %s", getattr(err, "orig", err))
        except Exception:  # a domain bug must not stop ingest
            log.exception("deferred work failed; trying again in %d ms", self.options.deferred_every_ms)
        return 0

    # --- one batch ------------------------------------------------------------------------

    def _store_messages(self, batch: list[_Pending], stop: threading.Event) -> BatchResult | None:
        """Store a batch; None when asked to stop while the database is unavailable."""
        events: list[EventRecord] = []
        raw: dict[str, _Pending] = {}  # event id → the message it came from (to dead-letter it whole)
        dead_letters: list[DeadLetterRecord] = []
        for p in batch:
            rec = p.record
            if isinstance(rec, EventRecord):
                events.append(rec)
                raw[rec.id] = p
            else:
                dead_letters.append(rec)
                log.warning("dead letter (%s) on %s: %s", rec.reason, rec.topic, rec.detail)
        return self._store(events, dead_letters, raw, stop)

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
                with self._kept.if_committed(), self.db() as session, session.begin():
                    return store_batch(session, events, dead_letters, kept=self._kept, role=self.options.role)
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
                with self._kept.if_committed(), self.db() as session, session.begin():
                    total.add(store_batch(session, [e], kept=self._kept, role=self.options.role))
            except OperationalError:
                raise
            except Exception as err:
                log.exception("event %s (%s from %s/%s) cannot be stored; dead-lettering it",
                              e.id, e.type, e.branch, e.device)
                p = raw[e.id]
                failed.append(dead(p.topic, p.payload, "store_failed", f"{type(err).__name__}: {err}", e.id))
                total.rejected[(e.branch, e.device, e.id)] = "store_failed"
        with self.db() as session, session.begin():
            total.add(store_batch(session, [], failed, role=self.options.role))
        return total
