"""Kiosk fixtures: a kiosk with pty simulators, a private broker and the real hub in a thread (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from device_hub.broker import free_port
from device_hub.ingest import runner
from tests.open_hours import OPEN_CONFIGS
from wire import Component

REPO = Path(__file__).resolve().parents[2]
KEY = "test-branch-key-123"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Kiosk tests run the hub on SQLite only (the storage layer is tested on both elsewhere)."""
    return f"sqlite:///{tmp_path / 'smartzone.db'}"


def kiosk_config(tmp_path: Path, broker: str, **overrides):
    from szconfig.kiosk import KioskConfig

    data = {"device": "k1", "branch": "b001", "broker": broker, "consent_version": "face-test",
            "dev_branch_key": KEY, "local_numbers": {"prefix": "K1"}, "reply_timeout_s": 1.5,
            "idle_timeout_s": 60, "status_poll_s": 0.5, "heartbeat_s": 30, "speech": False,
            "var_dir": str(tmp_path / "var"), "branches_dir": str(OPEN_CONFIGS / "branches")}
    data.update(overrides)
    return KioskConfig.model_validate(data)


@pytest.fixture
def make_kiosk(qtbot, tmp_path: Path):
    """Start a KioskApp (sim ports on ptys) for a config; stopped after the test."""
    from kiosk_client.services.speech import Speaker
    from kiosk_client.ui.kiosk import KioskApp

    started = []

    def make(broker: str, **overrides):
        config = kiosk_config(tmp_path, broker, **overrides)
        app = KioskApp(config, speaker=Speaker(enabled=False), receipts_dir=tmp_path / "receipts").start()
        started.append(app)
        app.window.show()
        qtbot.addWidget(app.window)
        cards = app.cards
        readers = [cards.gates[c] for c, dev in ((Component.CARD_READER, cards.card_reader),
                                                 (Component.ID_READER, cards.id_reader)) if dev is not None]
        # ready as a customer finds it: it has seen its readers empty (a card found at start-up is nobody's)
        qtbot.waitUntil(lambda: all(g.may_read() for g in readers), timeout=10000)
        return app

    yield make
    for app in started:
        app.stop()


@pytest.fixture
def dead_broker() -> str:
    """A broker URL where nothing listens: the kiosk is offline from the start."""
    return f"mqtt://127.0.0.1:{free_port()}"


class HubThread(runner.HubThread):
    """The real hub for the kiosk, plus a look at what it stored."""

    def __init__(self, url: str, factory):
        from device_hub.ingest.hub import Hub, IngestOptions
        from device_hub.link.mqtt import SessionOptions, parse_broker_url

        self.factory = factory
        super().__init__(Hub(url=parse_broker_url(url), session=SessionOptions(client_id="sz-hub-kiosk-test"),
                             db=factory, branches={"b001", "b002"}, options=IngestOptions(batch_wait_ms=5)))

    def events(self, type_: str | None = None) -> list:
        from server.events.models import Event

        with self.factory() as s:
            q = select(Event)
            if type_:
                q = q.where(Event.type == type_)
            return list(s.scalars(q))


@pytest.fixture
def hub(mosquitto, migrated):
    _engine, factory = migrated
    h = HubThread(mosquitto.url, factory)
    h.start()
    yield h
    h.stop()


class Spy:
    """Records every message under sz/v1/# (what the kiosk publishes), and can publish as the hub."""

    def __init__(self, url: str):
        from device_hub.link.mqtt import parse_broker_url

        u = parse_broker_url(url)
        self.messages: list[tuple[str, dict]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sz-test-spy")
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, _json(m.payload)))
        self.client.connect(u.host, u.port)
        self.client.subscribe("sz/v1/#", qos=1)
        self.client.loop_start()

    def of(self, suffix: str) -> list[dict]:
        return [body for topic, body in self.messages if topic.endswith(suffix)]

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _json(payload: bytes):
    try:
        return json.loads(payload)
    except ValueError:
        return {"raw": payload.decode(errors="replace")}


@pytest.fixture
def spy(mosquitto):
    s = Spy(mosquitto.url)
    yield s
    s.close()
