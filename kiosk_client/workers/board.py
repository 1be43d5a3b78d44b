"""The lobby display's listener: the retained queue board and calls, decoded, as Qt signals."""

from __future__ import annotations

import logging
import threading
import uuid

import paho.mqtt.client as mqtt
from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal

from device_hub.link.mqtt import BrokerUrl, SessionOptions, connect, make_client
from wire import TopicKind, branch_topic, decode_hub_message
from wire.messages import QueueBoardMessage, QueueCallMessage

log = logging.getLogger(__name__)


class BoardListener(QObject):
    """A read-only subscriber (clean session: the retained board restores the state on every start)."""

    board = Signal(object)  # QueueBoardData
    call = Signal(object)  # QueueCallData
    connected_changed = Signal(bool)

    def __init__(self, url: BrokerUrl, branch: str, *, role: str = "display"):
        super().__init__()
        self.url, self.branch = url, branch
        self.board_topic = branch_topic(branch, TopicKind.QUEUE_BOARD)
        self.call_topic = branch_topic(branch, TopicKind.QUEUE_CALL)
        opts = SessionOptions(client_id=f"sz-{role}-{branch}-{uuid.uuid4().hex[:8]}", persistent=False,
                              keepalive_s=10)
        self._opts = opts
        self._client = make_client(url, opts)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *_a: self.connected_changed.emit(False)
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_a: self.subscribed.set()
        self.subscribed = threading.Event()  # the broker acknowledged the subscriptions (tests wait for it)

    def start(self) -> BoardListener:
        try:
            connect(self._client, self.url, self._opts)
        except OSError as err:
            log.warning("broker %s not reachable (%s); retrying in the background", self.url, err)
            self._client.connect_async(self.url.host, self.url.port, keepalive=10)
        self._client.loop_start()  # paho's own thread; it reconnects by itself
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, _u, _f, reason_code, _p) -> None:
        if reason_code.is_failure:
            return
        self.subscribed.clear()
        client.subscribe([(self.board_topic, 1), (self.call_topic, 1)])
        self.connected_changed.emit(True)

    def _on_message(self, _c, _u, msg: mqtt.MQTTMessage) -> None:
        try:
            message = decode_hub_message(msg.payload)
        except ValidationError as err:
            log.warning("ignored a malformed message on %s: %s", msg.topic, err)
            return
        expected = QueueBoardMessage if msg.topic == self.board_topic else QueueCallMessage
        if not isinstance(message, expected) or message.branch != self.branch:
            log.warning("ignored a %s for %s on %s", message.type, message.branch, msg.topic)
            return
        (self.board if expected is QueueBoardMessage else self.call).emit(message.data)
