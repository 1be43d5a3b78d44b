"""A private Mosquitto that admits only provisioned accounts, and a paho client that records what it sees."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_hub.broker import MosquittoBroker
from device_hub.trust import Account
from device_hub.trust.store import AccountStore
from tests.support import wait_until

ACCOUNTS = [Account.service("hub"), Account.service("server"), Account.for_device("b001", "k1"),
            Account.for_device("b001", "k2"), Account.for_device("b002", "k1"),
            Account.for_device("b001", "lobby1", display=True)]


@dataclass
class Secured:
    broker: MosquittoBroker
    store: AccountStore
    secrets: dict[str, str]

    def url(self, username: str) -> str:
        return f"mqtt://{username}:{self.secrets[username]}@127.0.0.1:{self.broker.port}"


@pytest.fixture
def secured(tmp_path: Path):
    """Mosquitto with the generated password and ACL files: hub, server, b001.k1, b001.k2, b002.k1, b001.lobby1."""
    if not MosquittoBroker.available():
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    store = AccountStore(tmp_path / "trust")
    secrets = store.provision(ACCOUNTS)
    broker = MosquittoBroker(tmp_path / "mq", password_file=store.password_file,
                             acl_file=store.acl_file).start()
    yield Secured(broker, store, secrets)
    broker.stop()


@dataclass
class Probe:
    """A raw paho client: what the broker said to CONNECT and SUBSCRIBE, and what it delivered."""

    client: mqtt.Client
    connack: list[str] = field(default_factory=list)
    session_present: list[bool] = field(default_factory=list)
    subacks: list[list[int]] = field(default_factory=list)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    disconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def topics(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.messages]

    def subscribe(self, *filters: str) -> list[int]:
        n = len(self.subacks)
        for f in filters:
            self.client.subscribe(f, qos=1)
        wait_until(lambda: len(self.subacks) >= n + len(filters), timeout=5, message=f"SUBACK for {filters}")
        return [rc for acks in self.subacks[n:] for rc in acks]

    def publish(self, topic: str, payload: bytes = b"{}", *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect; paho's thread ends on its own (joining a dropped client's waits its 1 s poll)."""
        self.client.disconnect()
        threading.Thread(target=self.client.loop_stop, daemon=True).start()


def connack(port: int, username: str | None, password: str | None) -> str:
    """What the broker answers to a CONNECT with these credentials."""
    p = probe(port, username, password, expect_connected=False)
    p.close()
    return p.connack[0]


def probe(port: int, username: str | None, password: str | None, *, mqtt5: bool = False,
          client_id: str | None = None, expect_connected: bool = True, persistent: bool = False) -> Probe:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
                    protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
                    clean_session=None if mqtt5 else not persistent)
    c.reconnect_delay_set(60, 60)  # a refused probe stays refused; no retry noise within a test
    p = Probe(c)
    if username:
        c.username_pw_set(username, password)

    def on_message(_c, _u, m: mqtt.MQTTMessage) -> None:
        with p.lock:
            p.messages.append((m.topic, m.payload))

    def on_disconnect(*_a) -> None:
        p.disconnects += 1

    def on_connect(_c, _u, flags, rc, _p) -> None:
        p.session_present.append(bool(flags.session_present))
        p.connack.append(str(rc))

    c.on_connect = on_connect
    c.on_subscribe = lambda _c, _u, _mid, rcs, _p: p.subacks.append([int(r.value) for r in rcs])
    c.on_message = on_message
    c.on_disconnect = on_disconnect
    c.connect("127.0.0.1", port)
    c.loop_start()
    wait_until(lambda: p.connack, timeout=5, message=f"CONNACK for {username}")
    if expect_connected:
        assert p.connack == ["Success"], f"{username}: {p.connack}"
    return p
