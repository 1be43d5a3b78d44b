"""A device's link to the hub: birth and last will, heartbeats, and a publisher that loses nothing.

Every QoS 1 message goes to the outbox first and stays there until the hub confirms that its
transaction committed (end-to-end acknowledgement on `dev/{d}/ack`), not merely until the broker's
PUBACK: a broker that crashes before its next snapshot then loses nothing a device holds. At most
`max_in_flight` messages are handed to paho at a time (paho loses messages past 65,535 queued) and at
most `max_unconfirmed` wait for the hub; what is not confirmed within `confirm_timeout_s` (doubling
while the hub stays silent) or by the next connection is sent again with the same envelope id, which
makes the repeat harmless. Replies and commands reach `on_message` decoded and checked
(`wire.decode_hub_message`): a message for another device, on the wrong topic, or malformed is logged
and dropped here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from device_hub.link.mqtt import BrokerUrl, SessionOptions, connect, make_client
from device_hub.link.outbox import MemoryOutbox, Outbox, OutboxItem, envelope_id
from wire import (
    HUB_TOPICS,
    OfflineReason,
    TopicError,
    TopicKind,
    decode_hub_message,
    device_topic,
    encode,
    envelope,
    parse,
)
from wire.messages import (
    ConfirmMessage,
    HeartbeatData,
    HeartbeatMessage,
    StateData,
    StateMessage,
)

log = logging.getLogger(__name__)


class DeviceLink:
    def __init__(self, url: BrokerUrl, *, branch: str, device: str, outbox: Outbox | None = None,
                 model: str = "smartzone-sim", sw: str = "0.1.0", components: list[str] | None = None,
                 max_in_flight: int = 20, keepalive_s: int = 30,
                 on_message: Callable[[Any], None] | None = None, track_ids: bool = False,
                 ca_file: Path | None = None, end_to_end: bool = True, max_unconfirmed: int = 1000,
                 confirm_timeout_s: float = 30.0, max_confirm_timeout_s: float = 300.0):
        """`on_message` gets each reply and command the hub sends this device, as a typed message
        (`TicketReplyMessage`, `FaceReplyMessage`, `CommandMessage`), on the network thread.
        `end_to_end=False` deletes a message on its PUBACK instead of the hub's confirmation (for a
        broker with no hub behind it, and to measure what confirmations cost)."""
        self.url = url
        self.branch = branch
        self.device = device
        # an empty SqliteOutbox is falsy: `outbox or MemoryOutbox()` once lost a rebooted kiosk's queue
        self.outbox = outbox if outbox is not None else MemoryOutbox()
        self.model, self.sw, self.components = model, sw, components or []
        self.max_in_flight = max_in_flight
        self.on_message = on_message
        self.session_no = 0  # set per connection in _run; grows across restarts
        self.track_ids = track_ids
        self.confirmed_ids: list[str] = []  # envelope ids the hub confirmed stored (tests, benchmarks)
        self.sent_ids: list[str] = []  # envelope ids of every QoS 1 message put in the outbox (with track_ids)
        self.rejected: dict[str, str] = {}  # envelope id → reason, for events the hub dead-lettered
        self.seq = 0
        self.confirmed = 0
        self.resends = 0  # rounds of unconfirmed messages sent again after a time-out
        self.end_to_end = end_to_end
        self.max_unconfirmed = max_unconfirmed
        self.confirm_timeout_s = confirm_timeout_s
        self.max_confirm_timeout_s = max_confirm_timeout_s
        self.connected = threading.Event()
        self._cond = threading.Condition()
        self._in_flight: dict[int, OutboxItem] = {}  # mid → what it carries
        self._awaiting: dict[str, float] = {}  # envelope id → when its PUBACK came; until the hub confirms it
        self._early: set[str] = set()  # confirmed before their PUBACK arrived
        self._timeout_s = confirm_timeout_s
        self._ack_topic = device_topic(branch, device, TopicKind.CONFIRM)
        self._cursor = 0
        self._opts = SessionOptions(client_id=f"sz-{branch}-{device}", keepalive_s=keepalive_s, ca_file=ca_file)
        self._client: mqtt.Client | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._socket_open = False
        self._accepted = False  # the broker accepted the current connection (CONNACK success)
        self._crashed = False
        self.poll_s = 1.0  # the wake-up pipe makes sending immediate; this only paces keep-alives
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._qos0: deque[tuple[str, bytes]] = deque(maxlen=100)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> DeviceLink:
        c = make_client(self.url, self._opts)
        c.max_inflight_messages_set(self.max_in_flight)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_message = self._on_mqtt_message
        self._client = c
        self._thread = threading.Thread(target=self._run, name=f"link-{self.device}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        """The network thread: owns the client and the in-flight map, so no lock guards them."""
        delay = 0.2
        while not self._stopping.is_set():
            if not self._socket_open:
                # every connection is a new session (Sparkplug's bdSeq): its will names it, so the
                # hub can ignore a will that arrives after the next birth
                self.session_no = max(self.session_no + 1, time.time_ns() // 1_000_000)
                self._client.will_set(device_topic(self.branch, self.device, TopicKind.STATE),
                                      encode(self._state(online=False, reason=OfflineReason.LOST)), qos=1,
                                      retain=True)
                try:
                    connect(self._client, self.url, self._opts)
                    self._socket_open = True
                except OSError as err:
                    log.info("%s: broker %s not reachable (%s); retry in %.1f s", self.device, self.url,
                             err, delay)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, 5)
                    continue
            rc = self._loop_once(self.poll_s)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._socket_open = False
                self._lost()
                # a connection the broker refused (bad credentials) is not retried at once: back off
                wait, delay = (0.2, 0.2) if self._accepted else (delay, min(delay * 2, 30))
                self._accepted = False
                self._stopping.wait(wait)
                continue
        if self._socket_open and not self._crashed:
            self._client.disconnect()
            self._client.loop(timeout=0.1)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _loop_once(self, timeout: float) -> int:
        """paho's loop() through its external-loop API, also woken by our pipe: a message queued by
        another thread goes out at once instead of at the next poll."""
        c = self._client
        sock = c.socket()
        if sock is None:
            return mqtt.MQTT_ERR_NO_CONN
        pending = sock.pending() if hasattr(sock, "pending") else 0  # TLS: bytes already decrypted
        try:
            readable, writable, _ = select.select([sock, self._wake_r], [sock] if c.want_write() else [], [],
                                                  0 if pending else timeout)
        except (OSError, ValueError, TypeError):
            return mqtt.MQTT_ERR_CONN_LOST
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
        if sock in readable or pending:
            rc = c.loop_read()
            if rc or c.socket() is None:
                return rc or mqtt.MQTT_ERR_CONN_LOST
        self._pump()
        if sock in writable or c.want_write():
            rc = c.loop_write()
            if rc:
                return rc
        return c.loop_misc()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"!")

    def stop(self, *, goodbye: bool = True, timeout: float = 10) -> None:
        """Say goodbye (offline state, retained), wait for every PUBACK, disconnect."""
        if goodbye:
            self.send_state(online=False)
        self.flush(timeout)
        self._stopping.set()
        self._wake()
        if self._thread:
            self._thread.join(timeout)

    def kill(self) -> None:
        """Stop without a goodbye and drop the TCP connection, as a crash would (the will fires)."""
        self._crashed = True
        self._stopping.set()
        sock = self._client.socket() if self._client else None
        if sock:
            sock.close()
        self._wake()
        if self._thread:
            self._thread.join(5)

    # --- sending ------------------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _state(self, *, online: bool, reason: OfflineReason | None = None) -> Any:
        data = StateData(online=online, session=self.session_no, model=self.model if online else None,
                         sw=self.sw if online else None, components=self.components if online else [],
                         reason=None if online else (reason or OfflineReason.SHUTDOWN))
        return envelope(StateMessage, branch=self.branch, device=self.device, seq=self.seq, data=data)

    def send_state(self, *, online: bool) -> None:
        """A birth, or (online=False) a clean goodbye: `shutdown`, which the hub records as informational."""
        if online:
            self.seq = 0
        msg = self._state(online=online)
        self.publish(device_topic(self.branch, self.device, TopicKind.STATE), encode(msg), retain=True,
                     msg_id=str(msg.id))

    def send(self, message_type: type, data: Any, *, topic_kind: TopicKind = TopicKind.EVENT) -> Any:
        """Wrap data in an envelope and queue it (durably) for the hub; returns the message."""
        msg = envelope(message_type, branch=self.branch, device=self.device, seq=self.next_seq(), data=data)
        event = msg.type if topic_kind is TopicKind.EVENT else None
        self.publish(device_topic(self.branch, self.device, topic_kind, event), encode(msg), msg_id=str(msg.id))
        return msg

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, msg_id: str = "") -> None:
        """Queue durably; the network thread is woken to send it. Older retained messages of the topic still
        in the outbox are sent on unretained from now on: sent again after this one, an old state would
        otherwise replace it at the broker."""
        key = self.outbox.put(topic, payload, 1, retain, msg_id)
        if self.track_ids:
            self.sent_ids.append(msg_id or envelope_id(payload))
        if retain:
            self.outbox.unretain_older(topic, key)
        self._wake()

    def heartbeat(self, uptime_s: int, counters: dict[str, int] | None = None) -> None:
        """QoS 0, not kept in the outbox: a lost heartbeat is replaced by the next one."""
        if not self.connected.is_set():
            return
        msg = envelope(HeartbeatMessage, branch=self.branch, device=self.device, seq=self.seq,
                       data=HeartbeatData(uptime_s=uptime_s, counters=counters or {}))
        self._qos0.append((device_topic(self.branch, self.device, TopicKind.HEARTBEAT), encode(msg)))
        self._wake()

    def subscribe_own(self) -> None:
        for kind in (TopicKind.REPLY, TopicKind.COMMAND):
            self._client.subscribe(device_topic(self.branch, self.device, kind), qos=1)

    def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty (with end_to_end: until the hub confirmed everything); False on
        timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.outbox):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
        return True

    def wait_for_room(self, high_water: int, timeout: float | None = None) -> None:
        """Block a fast producer while the outbox holds more than high_water messages."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while len(self.outbox) > high_water:
                if deadline is not None and time.monotonic() > deadline:
                    return
                self._cond.wait(0.2)

    # --- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(self, client, _u, _flags, reason_code, _p) -> None:
        if reason_code.is_failure:
            log.error("%s: broker refused connection: %s", self.device, reason_code)
            return
        self._accepted = True
        self._forget_unconfirmed()  # a new connection sends every unconfirmed message again
        if self.end_to_end:
            # before anything is published, so the hub's first confirmation already finds us
            client.subscribe(self._ack_topic, qos=0)
        if self.on_message:
            self.subscribe_own()
        self.send_state(online=True)
        self.connected.set()  # after the birth is queued: what a waiter sends next follows it

    def _on_disconnect(self, _c, _u, _f, reason_code, _p) -> None:
        self._lost()
        if reason_code != 0:
            log.info("%s: disconnected (%s); outbox holds %d", self.device, reason_code, len(self.outbox))

    def _lost(self) -> None:
        self.connected.clear()
        self._forget_unconfirmed()
        with self._cond:
            self._cond.notify_all()

    def _forget_unconfirmed(self) -> None:
        """Everything not yet confirmed is sent again from the outbox, from its oldest row."""
        self._in_flight.clear()
        self._awaiting.clear()
        self._early.clear()
        self._cursor = 0

    def _on_publish(self, _c, _u, mid, _rc, _p) -> None:
        item = self._in_flight.pop(mid, None)
        if item is None:
            return
        if self.end_to_end:
            if item.msg_id in self._early:
                self._early.discard(item.msg_id)
            else:
                self._awaiting[item.msg_id] = time.monotonic()
            return
        self.outbox.delete(item.key)
        self._counted([item.msg_id])

    def _counted(self, ids: list[str]) -> None:
        self.confirmed += len(ids)
        if self.track_ids:
            self.confirmed_ids.extend(ids)
        with self._cond:
            self._cond.notify_all()

    def _on_mqtt_message(self, _c, _u, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self._ack_topic:
            self._on_confirm(msg.payload)
        elif self.on_message:
            message = self._hub_message(msg.topic, msg.payload)
            if message is not None:
                self.on_message(message)

    def _hub_message(self, topic: str, payload: bytes) -> Any:
        """A reply or command for this device, decoded; None (logged) for anything else."""
        try:
            kind = parse(topic).kind
            message = decode_hub_message(payload)
        except (TopicError, ValidationError) as err:
            log.warning("%s: ignoring a malformed message on %s: %s", self.device, topic, err)
            return None
        if (message.branch, message.device) != (self.branch, self.device) or HUB_TOPICS[message.type] is not kind:
            log.warning("%s: ignoring a %s for %s/%s on %s", self.device, message.type, message.branch,
                        message.device, topic)
            return None
        return message

    def _on_confirm(self, payload: bytes) -> None:
        """The hub committed these events: delete them; a rejected one is logged, never sent again."""
        try:
            msg = decode_hub_message(payload)
        except ValueError as err:
            log.warning("%s: ignoring a malformed confirmation: %s", self.device, err)
            return
        if not isinstance(msg, ConfirmMessage) or (msg.branch, msg.device) != (self.branch, self.device):
            log.warning("%s: ignoring a %s for %s/%s on our confirmation topic", self.device, msg.type,
                        msg.branch, msg.device)
            return
        rejected = {str(r.id): r.reason for r in msg.data.rejected}
        named = {str(i) for i in msg.data.ids} | rejected.keys()  # a batch may hold an event twice
        gone = set(self.outbox.delete_ids(named))
        for i in named:
            if self._awaiting.pop(i, None) is None and i in gone:
                self._early.add(i)
        for i, reason in rejected.items():
            if i in gone:
                self.rejected[i] = reason
                log.warning("%s: the hub dead-lettered event %s (%s); it is kept there, not sent again",
                            self.device, i, reason)
        self._timeout_s = self.confirm_timeout_s  # the hub is answering
        self._counted([i for i in gone if i not in rejected])

    def _pump(self) -> None:
        """Hand the next outbox items to paho, keeping at most max_in_flight unacknowledged."""
        if not self.connected.is_set():
            return
        while self._qos0:
            topic, payload = self._qos0.popleft()
            self._client.publish(topic, payload, qos=0)
        if self._awaiting:
            self._resend_if_unconfirmed()
        room = min(self.max_in_flight - len(self._in_flight),
                   self.max_unconfirmed - len(self._in_flight) - len(self._awaiting))
        if room <= 0:
            return
        flying = {item.key for item in self._in_flight.values()}
        for item in self.outbox.after(self._cursor, room):
            if item.key in flying:
                self._cursor = item.key
                continue
            info = self._client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break
            self._in_flight[info.mid] = item
            self._cursor = item.key

    def _resend_if_unconfirmed(self) -> None:
        """The oldest message the broker took has waited too long for the hub: send the unconfirmed again,
        and wait twice as long next time while the hub stays silent (a hub that is away would otherwise
        get every device's window again every time-out)."""
        oldest = next(iter(self._awaiting.values()))
        if time.monotonic() - oldest < self._timeout_s:
            return
        log.info("%s: %d messages not confirmed by the hub within %.0f s; sending them again", self.device,
                 len(self._awaiting), self._timeout_s)
        self.resends += 1
        self._timeout_s = min(self._timeout_s * 2, self.max_confirm_timeout_s)
        self._awaiting.clear()
        self._early.clear()
        self._cursor = 0
