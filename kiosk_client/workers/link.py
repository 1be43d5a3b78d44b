"""The MQTT link worker: every event goes to the durable outbox on this thread, never the GUI's.

device_hub's DeviceLink does birth, last will and the PUBACK-confirmed relay on its own
network thread; this worker adds heartbeats and turns incoming messages into Qt signals.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import BrokerUrl
from device_hub.link.outbox import Outbox, SqliteOutbox
from wire import TopicKind

log = logging.getLogger(__name__)


class LinkWorker(QObject):
    received = Signal(object)  # a reply or command from the hub, decoded (emitted on the network thread; queued)
    connected_changed = Signal(bool)
    sent = Signal(str)  # message type, after it is safely in the outbox

    def __init__(self, url: BrokerUrl, *, branch: str, device: str, outbox_path: Path | None,
                 components: list[str], sw: str, heartbeat_s: float = 30.0, outbox: Outbox | None = None):
        super().__init__()
        self.url, self.branch, self.device = url, branch, device
        self.outbox_path, self.components, self.sw = outbox_path, components, sw
        self.heartbeat_s = heartbeat_s
        self.started = time.monotonic()
        self.counters: dict[str, int] = {}
        self._outbox = outbox
        self.link: DeviceLink | None = None
        self._connected = False

    @Slot()
    def start(self) -> None:
        outbox = self._outbox if self._outbox is not None else SqliteOutbox(self.outbox_path)
        self.link = DeviceLink(self.url, branch=self.branch, device=self.device, outbox=outbox,
                               model="smartzone-kiosk", sw=self.sw, components=self.components,
                               keepalive_s=10, on_message=self.received.emit)
        self.link.start()
        self._hb = QTimer(self)
        self._hb.timeout.connect(self.heartbeat)
        self._hb.start(int(self.heartbeat_s * 1000))
        self._watch = QTimer(self)
        self._watch.timeout.connect(self._check_connected)
        self._watch.start(200)

    def _check_connected(self) -> None:
        now = bool(self.link and self.link.connected.is_set())
        if now != self._connected:
            self._connected = now
            self.connected_changed.emit(now)

    @Slot(object, object, object)
    def send(self, message_type: type, data: Any, topic_kind: TopicKind) -> None:
        if self.link is None:
            return
        msg = self.link.send(message_type, data, topic_kind=topic_kind)
        self.counters[msg.type] = self.counters.get(msg.type, 0) + 1
        self.sent.emit(msg.type)

    @Slot()
    def heartbeat(self) -> None:
        if self.link is not None:
            counters = {k: v for k, v in self.counters.items() if k.replace("_", "").isalnum()}
            counters["outbox"] = len(self.link.outbox)
            self.link.heartbeat(int(time.monotonic() - self.started), counters)

    def pending(self) -> int:
        return len(self.link.outbox) if self.link else 0

    @Slot()
    def stop(self) -> None:
        for name in ("_hb", "_watch"):
            timer = getattr(self, name, None)
            if timer is not None:
                timer.stop()
        if self.link is not None:
            self.link.stop(goodbye=self._connected, timeout=2 if self._connected else 0.1)
