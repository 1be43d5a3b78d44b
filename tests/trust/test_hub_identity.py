"""The hub behind the generated ACL: a device's own traffic is stored and answered; impostors never reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_hub.broker import start_embedded
from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from device_hub.trust import Account
from device_hub.trust.store import AccountStore
from server.events.service import counts
from tests.spine.hubkit import HubThread
from tests.support import wait_until
from tests.trust.conftest import Secured, connack, probe
from wire.messages import SurveyData, SurveyMessage, encode, envelope
from wire.topics import TopicKind, branch_topic, device_topic


def _counts(factory) -> dict[str, int]:
    with factory() as s:
        return counts(s)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_impostors_are_not_stored_while_the_device_is(secured: Secured, migrated) -> None:
    """GIVEN the hub (hub account) and kiosk k1 (its own account) behind the generated ACL
    WHEN k1 sends surveys, and clients with k1's credentials send valid-looking surveys as k2, as b002's k1
         and a birth of the unprovisioned rogue9
    THEN k1's events are stored and confirmed end to end (the hub's ack reaches k1), nothing else is stored
         or dead-lettered, and the hub's board reaches k1."""
    _engine, factory = migrated
    port, s = secured.broker.port, secured.secrets
    with HubThread(secured.url("hub"), factory, client_id="sz-hub-trust"):
        for branch, device, kind in (("b001", "k2", TopicKind.EVENT), ("b002", "k1", TopicKind.EVENT),
                                     ("b001", "rogue9", TopicKind.STATE)):
            body = encode(envelope(SurveyMessage, branch=branch, device=device, seq=1, data=SurveyData(score=1)))
            impostor = probe(port, "b001.k1", s["b001.k1"])
            impostor.publish(device_topic(branch, device, kind, "survey" if kind is TopicKind.EVENT else None), body)
            wait_until(lambda p=impostor: p.disconnects, timeout=5, message=f"impostor as {branch}/{device} dropped")
            impostor.close()
        k1 = DeviceLink(parse_broker_url(secured.url("b001.k1")), branch="b001", device="k1").start()
        for score in (5, 4, 3):
            k1.send(SurveyMessage, SurveyData(score=score))
        assert k1.flush(15), "k1's surveys were not confirmed by the hub"
        listener = probe(port, "b001.k1", s["b001.k1"])
        listener.subscribe(branch_topic("b001", TopicKind.QUEUE_BOARD))
        hub_client = probe(port, "hub", s["hub"])
        hub_client.publish(branch_topic("b001", TopicKind.QUEUE_BOARD), b'{"waiting":{}}')
        wait_until(listener.topics, timeout=5, message="the board at k1")
        k1.stop()
        wait_until(lambda: _counts(factory)["events"] >= 5, timeout=15, message="birth, 3 surveys, goodbye")
        for p in (listener, hub_client):
            p.close()
    c = _counts(factory)
    assert (c["events"], c["devices"], c["dead_letters"]) == (5, 1, 0)


def test_embedded_broker_refuses_anonymous_clients(tmp_path: Path) -> None:
    """GIVEN the embedded broker started on an empty account store, then with k1 provisioned and reloaded
    WHEN an anonymous client and k1 connect
    THEN the anonymous one is refused both times, and k1 gets in once provisioned."""
    store = AccountStore(tmp_path / "trust")
    broker = start_embedded(tmp_path, store)
    try:
        assert connack(broker.port, None, None) == "Not authorized"
        secret = store.provision([Account.for_device("b001", "k1")])["b001.k1"]
        assert store.reload_broker() == broker.proc.pid  # what `smartzone devices provision` does
        wait_until(lambda: connack(broker.port, "b001.k1", secret) == "Success", timeout=5,
                   message="k1 admitted after the reload")
        assert connack(broker.port, None, None) == "Not authorized"
        conf = (tmp_path / "mosquitto" / "mosquitto.conf").read_text()
        assert "allow_anonymous false" in conf and f"acl_file {store.acl_file.resolve()}" in conf
    finally:
        broker.stop()
