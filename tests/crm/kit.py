"""CRM test kit: a minimal MQTT kiosk that publishes envelopes and collects what the hub sends back."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_hub.link.mqtt import parse_broker_url
from wire import ALL_DEVICE_TYPES, device_topic, encode, envelope
from wire.messages import StaffLeadData, StaffLeadMessage, hub_message_adapter
from wire.topics import TopicKind


class Kiosk:
    """Publishes device events at QoS 1 and records replies and staff leads of its branch, decoded strictly
    (a field the hub sends but does not declare fails the test)."""

    def __init__(self, broker_url: str, branch: str = "b001", device: str = "kx"):
        url = parse_broker_url(broker_url)
        self.branch, self.device, self.seq = branch, device, 0
        self.replies: dict[str, Any] = {}  # request_id → FaceReplyData | TicketReplyData
        self.leads: list[StaffLeadData] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"crm-test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.connect(url.host, url.port)
        self.client.loop_start()
        for topic in (f"sz/v1/{branch}/dev/{device}/reply", f"sz/v1/{branch}/staff/lead"):
            self.client.subscribe(topic, qos=1)[1]

    def _on_message(self, _c, _u, msg) -> None:
        message = hub_message_adapter.validate_json(msg.payload)
        with self._lock:
            if isinstance(message, StaffLeadMessage):
                self.leads.append(message.data)
            else:
                self.replies[message.data.request_id] = message.data

    def send(self, type_: str, data: dict[str, Any]) -> str:
        self.seq += 1
        msg = envelope(ALL_DEVICE_TYPES[type_], branch=self.branch, device=self.device, seq=self.seq, data=data)
        topic = device_topic(self.branch, self.device, TopicKind.EVENT, type_)
        self.client.publish(topic, encode(msg), qos=1).wait_for_publish(10)
        return str(msg.id)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
