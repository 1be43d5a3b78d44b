"""Where a process's broker password comes from: SZ_MQTT_PASSWORD or a file outside the repository."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from server.events.service import counts
from szconfig.kiosk import load_kiosk_config
from szconfig.mqtt_auth import SecretSourceError, mqtt_password
from tests.open_hours import OPEN_CONFIGS
from tests.support import wait_until
from tests.trust.conftest import Secured
from wire.messages import SurveyData, SurveyMessage

REPO = Path(__file__).resolve().parents[2]


def test_environment_first_then_a_file(tmp_path: Path) -> None:
    """GIVEN a password file and SZ_MQTT_PASSWORD WHEN both are there THEN the environment wins; without it the
    file's first line; without both, no password. A SecretStr never shows the value."""
    f = tmp_path / "pw"
    f.write_text("from-file\nignored\n")
    assert mqtt_password(f, env={"SZ_MQTT_PASSWORD": "from-env"}).get_secret_value() == "from-env"
    got = mqtt_password(f, env={})
    assert got.get_secret_value() == "from-file" and "from-file" not in repr(got)
    assert mqtt_password(None, env={}) is None


@pytest.mark.parametrize("where", ["repo", "empty", "missing"])
def test_unusable_password_files(tmp_path: Path, where: str) -> None:
    """GIVEN a password file inside the checkout, an empty one or none WHEN read THEN a message saying what to do."""
    path = {"repo": REPO / "configs" / "hub.toml", "empty": tmp_path / "empty", "missing": tmp_path / "nope"}[where]
    if where == "empty":
        path.write_text("\n")
    with pytest.raises(SecretSourceError, match={"repo": "inside the repository", "empty": "empty",
                                                  "missing": "cannot read"}[where]):
        mqtt_password(path, env={})


def test_kiosk_config_names_its_account_not_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN configs/kiosk/b001-k1.toml WHEN loaded with SZ_MQTT_PASSWORD set THEN the username is b001.k1 and
    the password the environment's."""
    monkeypatch.setenv("SZ_MQTT_PASSWORD", "s3cret")
    cfg = load_kiosk_config(REPO / "configs" / "kiosk" / "b001-k1.toml")
    user, password = cfg.mqtt_credentials()
    assert user == "b001.k1" and password.get_secret_value() == "s3cret"
    for path in (REPO / "configs" / "kiosk").glob("*.toml"):
        text = path.read_text()
        assert "mqtt_username" in text and "password =" not in text.replace("mqtt_password_file =", "")


def test_url_credentials_win() -> None:
    """GIVEN mqtt://user:pass@… WHEN other credentials are offered THEN the URL's stay (they keep working)."""
    url = parse_broker_url("mqtt://a:b@127.0.0.1:1883")
    assert (url.with_credentials("c", "d").username, url.with_credentials("c", "d").password) == ("a", "b")
    plain = parse_broker_url("mqtt://127.0.0.1:1883").with_credentials("hub", "x")
    assert (plain.username, plain.password) == ("hub", "x") and "x" not in repr(plain) and "x" not in str(plain)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hub_command_logs_in_with_username_and_environment(secured: Secured, migrated, db_url: str,
                                                           tmp_path: Path) -> None:
    """GIVEN `smartzone hub --username hub` with the secret in SZ_MQTT_PASSWORD against the ACL'd broker
    WHEN k1 sends a survey
    THEN the hub subscribes and stores it (birth and survey)."""
    _engine, factory = migrated
    log = tmp_path / "hub.log"
    env = dict(os.environ, SZ_CONFIG_DIR=str(OPEN_CONFIGS), SZ_MQTT_PASSWORD=secured.secrets["hub"],
               SZ_TEMPLATE_KEYS="t1:" + base64.b64encode(os.urandom(32)).decode())  # not the development key
    hub = subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "-v", "hub", "--broker",
                            f"mqtt://127.0.0.1:{secured.broker.port}", "--username", "hub", "--db", db_url,
                            "--client-id", "sz-hub-env"], stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env,
                           cwd=REPO)
    try:
        wait_until(lambda: "ready:" in log.read_text(), timeout=30, message="hub subscribed")
        k1 = DeviceLink(parse_broker_url(secured.url("b001.k1")), branch="b001", device="k1").start()
        k1.send(SurveyMessage, SurveyData(score=5))
        assert k1.flush(15), "the hub did not confirm k1's survey"
        k1.kill()

        def stored() -> int:
            with factory() as s:
                return counts(s)["events"]

        wait_until(lambda: stored() >= 2, timeout=10, message="birth and survey stored")
    finally:
        hub.terminate()
        hub.wait(15)
    assert secured.secrets["hub"] not in log.read_text()
