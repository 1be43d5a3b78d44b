"""Production-like broker: TLS with a private CA and username/password; anonymous and wrong passwords refused."""

import subprocess
from pathlib import Path

import pytest

from device_hub.broker import MosquittoBroker
from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.ingest.runner import HubThread
from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import SessionOptions, parse_broker_url
from server.events.service import counts
from tests.support import wait_until
from wire.messages import SurveyData, SurveyMessage


def events(factory) -> int:
    with factory() as s:
        return counts(s)["events"]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def secure_broker(tmp_path: Path):
    """Mosquitto on mqtts:// with a CA made for the test and two accounts: hub and kiosk."""
    d = tmp_path / "pki"
    d.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sz-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
             "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=d)
    pw = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "hub", "hub-secret"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "kiosk", "kiosk-secret"], check=True)
    pw.chmod(0o600)
    for f in d.iterdir():
        f.chmod(0o644)
    broker = MosquittoBroker(tmp_path / "mq", password_file=pw,
                             tls=(d / "ca.crt", d / "server.crt", d / "server.key")).start()
    yield broker, d / "ca.crt"
    broker.stop()


def test_hub_and_kiosk_over_tls_with_passwords(secure_broker, migrated) -> None:
    """GIVEN a broker that requires TLS and a password
    WHEN the hub and a kiosk connect with mqtts://user:pass@… and the private CA
    THEN the kiosk's events are stored; a kiosk with a wrong password gets nothing through."""
    broker, ca = secure_broker
    _engine, factory = migrated
    port = broker.port
    hub = Hub(url=parse_broker_url(f"mqtts://hub:hub-secret@127.0.0.1:{port}"), db=factory,
              branches={"b001"}, session=SessionOptions(client_id="sz-hub-tls", ca_file=ca),
              options=IngestOptions())
    with HubThread(hub):  # start() fails the test if the hub cannot subscribe over TLS
        good = DeviceLink(parse_broker_url(f"mqtts://kiosk:kiosk-secret@127.0.0.1:{port}"), branch="b001",
                          device="k1", ca_file=ca).start()
        bad = DeviceLink(parse_broker_url(f"mqtts://kiosk:wrong@127.0.0.1:{port}"), branch="b001",
                         device="k2", ca_file=ca).start()
        for score in (5, 4, 3):
            good.send(SurveyMessage, SurveyData(score=score))
            bad.send(SurveyMessage, SurveyData(score=1))
        assert good.flush(15), "the kiosk's events were not acknowledged"
        good.stop()
        wait_until(lambda: events(factory) >= 5, timeout=15, message="birth, 3 surveys, goodbye")
        assert not bad.connected.is_set() and len(bad.outbox) >= 3  # kept, not lost, until fixed
        bad.kill()
        with factory() as s:
            c = counts(s)
        assert c["events"] == 5 and c["devices"] == 1
