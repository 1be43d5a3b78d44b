"""CRM test kit: a minimal MQTT kiosk that publishes envelopes and collects what the hub sends back."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_hub.link.mqtt import parse_broker_url


class Kiosk:
    """Publishes device events at QoS 1 and records replies and staff leads of its branch."""

    def __init__(self, broker_url: str, branch: str = "b001", device: str = "kx"):
        url = parse_broker_url(broker_url)
        self.branch, self.device, self.seq = branch, device, 0
        self.replies: dict[str, dict[str, Any]] = {}
        self.leads: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"crm-test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.connect(url.host, url.port)
        self.client.loop_start()
        for topic in (f"sz/v1/{branch}/dev/{device}/reply", f"sz/v1/{branch}/staff/lead"):
            self.client.subscribe(topic, qos=1)[1]

    def _on_message(self, _c, _u, msg) -> None:
        body = json.loads(msg.payload)
        with self._lock:
            if msg.topic.endswith("/reply"):
                self.replies[body["data"]["request_id"]] = body["data"]
            else:
                self.leads.append(body["data"])

    def send(self, type_: str, data: dict[str, Any]) -> str:
        self.seq += 1
        eid = str(uuid.uuid4())
        env = {"v": 1, "id": eid, "ts": datetime.now(UTC).isoformat(), "branch": self.branch, "device": self.device,
               "seq": self.seq, "type": type_, "data": data}
        topic = f"sz/v1/{self.branch}/dev/{self.device}/evt/{type_}"
        self.client.publish(topic, json.dumps(env), qos=1).wait_for_publish(10)
        return eid

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
