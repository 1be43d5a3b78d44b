"""`smartzone devices provision …` feeds a real Mosquitto; `sim devices` and the hub get in with what it wrote."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from device_hub.broker import MosquittoBroker
from device_hub.trust import verify_password
from device_hub.trust.store import AccountStore
from server.events.service import counts
from smartzone.cli.main import cli
from tests.open_hours import OPEN_CONFIGS
from tests.spine.hubkit import HubThread
from tests.trust.conftest import connack

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result


def test_provision_from_branch_config_prints_each_secret_once(tmp_path: Path) -> None:
    """GIVEN b001's branch config (kiosks k1-k4 and display lobby1)
    WHEN `devices provision --from-config … --json` runs, then again for k1 only
    THEN every device gets an account with a secret that matches its stored hash, the display is a display,
         and the second run rotates k1's secret only."""
    store_dir = tmp_path / "trust"
    first = _run("devices", "provision", "--from-config", str(REPO / "configs/branches/b001.toml"),
                 "--dir", str(store_dir), "--json")
    assert first.exit_code == 0, first.output
    rows = json.loads(first.stdout)
    assert [(r["username"], r["role"]) for r in rows] == [
        ("b001.k1", "device"), ("b001.k2", "device"), ("b001.k3", "device"), ("b001.k4", "device"),
        ("b001.lobby1", "display")]
    stored = AccountStore(store_dir).load()
    assert all(verify_password(r["secret"], stored[r["username"]][1]) for r in rows)
    again = json.loads(_run("devices", "provision", "--branch", "b001", "--device", "k1", "--dir", str(store_dir),
                            "--json").stdout)
    stored = AccountStore(store_dir).load()
    assert not verify_password(rows[0]["secret"], stored["b001.k1"][1])
    assert verify_password(again[0]["secret"], stored["b001.k1"][1])
    assert verify_password(rows[1]["secret"], stored["b001.k2"][1])
    listing = _run("devices", "list", "--dir", str(store_dir), "--json").stdout
    assert "secret" not in listing and len(json.loads(listing)) == 5


def test_secret_dir_outside_the_repository_only(tmp_path: Path) -> None:
    """GIVEN --secret-dir WHEN it is outside the checkout THEN one 0600 file per account and no secret printed;
    WHEN it is inside the checkout THEN refused."""
    out = _run("devices", "provision-service", "hub", "--dir", str(tmp_path / "trust"), "--secret-dir",
               str(tmp_path / "secrets"), "--json")
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.stdout)
    secret_file = Path(row["secret_file"])
    assert "secret" not in row and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert verify_password(secret_file.read_text().strip(), AccountStore(tmp_path / "trust").load()["hub"][1])
    refused = _run("devices", "provision", "--branch", "b001", "--device", "k1", "--dir", str(tmp_path / "t2"),
                   "--secret-dir", str(REPO / "var" / "secrets-test"))
    assert refused.exit_code != 0 and "inside the repository" in refused.output
    assert not (REPO / "var" / "secrets-test").exists()


@pytest.mark.parametrize(("args", "message"), [(("--device", "k1"), "--device needs --branch"),
                                               (("--branch", "b001"), "at least one --device"),
                                               (("--branch", "B1", "--device", "k1"), "is not an id"),
                                               ((), "nothing to provision")])
def test_bad_provision_arguments(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    """GIVEN incomplete or invalid ids WHEN provisioning THEN a message that says what is wrong."""
    out = _run("devices", "provision", *args, "--dir", str(tmp_path))
    assert out.exit_code != 0 and message in out.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_provisioned_files_run_a_broker_the_sim_and_hub_use(tmp_path: Path, migrated) -> None:
    """GIVEN accounts provisioned by the CLI (b001's devices to a secret dir, the hub) and Mosquitto on those files
    WHEN `sim devices --secret-dir` runs two kiosks while a hub with its account stores
    THEN every event is stored; anonymous clients are refused."""
    _engine, factory = migrated
    store_dir, secrets = tmp_path / "trust", tmp_path / "secrets"
    assert _run("devices", "provision", "--from-config", str(REPO / "configs/branches/b001.toml"), "--dir",
                str(store_dir), "--secret-dir", str(secrets)).exit_code == 0
    hub = json.loads(_run("devices", "provision-service", "hub", "--dir", str(store_dir), "--json").stdout)[0]
    store = AccountStore(store_dir)
    broker = MosquittoBroker(tmp_path / "mq", password_file=store.password_file, acl_file=store.acl_file).start()
    try:
        assert connack(broker.port, None, None) == "Not authorized"
        with HubThread(f"mqtt://hub:{hub['secret']}@127.0.0.1:{broker.port}", factory, client_id="sz-hub-cli"):
            out = _run("sim", "devices", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--branch", "b001",
                       "--count", "2", "--prefix", "k", "--events", "5", "--heartbeat", "1", "--secret-dir",
                       str(secrets), "--json", env={"SZ_CONFIG_DIR": str(OPEN_CONFIGS)})
            assert out.exit_code == 0, out.output
            assert json.loads(out.stdout) == {"published": 2 * (5 + 2)}  # events, birth and goodbye
        with factory() as s:
            assert counts(s)["events"] == 14 and counts(s)["devices"] == 2
    finally:
        broker.stop()
