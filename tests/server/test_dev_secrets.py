"""The repository's development secrets: refused by `server`, `hub` and `kiosk` unless --dev; never shown."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from smartzone.cli.main import cli
from szconfig import ServerSettings, check_files
from szconfig.secrets import (
    DEV_IDENTITY_KEY,
    DEV_TEMPLATE_KEYS,
    DEV_WEBHOOK_SECRET,
    DevSecretError,
    check_server_secrets,
)
from tests.open_hours import OPEN_CONFIGS
from tests.support import wait_until

REPO = Path(__file__).resolve().parents[2]
KIOSK = str(REPO / "configs" / "kiosk" / "b001-k1.toml")
REAL = {"SZ_IDENTITY_KEY": "branch-identity-key-from-a-vault",
        "SZ_TEMPLATE_KEYS": "k7:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        "SZ_WEBHOOK_SECRET": "webhook-secret-from-a-vault"}
SECRET_VARS = (*REAL, "SZ_BRANCH_KEY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No SZ_* secret from the caller's shell, and the hub's CRM settings restored afterwards."""
    import server.customers.config as crm_config

    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SZ_CONFIG_DIR", str(OPEN_CONFIGS))
    saved = crm_config._current
    yield monkeypatch
    crm_config._current = saved


def _one_line_error(result) -> str:
    assert result.exit_code != 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0].removeprefix("Error: ")


def test_server_refuses_the_development_secrets(sqlite_url, clean_env):
    """GIVEN no keys in the environment WHEN `smartzone server` starts THEN it refuses in one line naming every
    variable to set; WHEN only the webhook secret is missing THEN it names just that one."""
    r = CliRunner().invoke(cli, ["server", "--db", sqlite_url, "--port", "0"])
    assert _one_line_error(r) == ("SZ_IDENTITY_KEY, SZ_TEMPLATE_KEYS and SZ_WEBHOOK_SECRET are the repository's "
                                  "development secrets; set SZ_IDENTITY_KEY, SZ_TEMPLATE_KEYS and SZ_WEBHOOK_SECRET "
                                  "or pass --dev")
    clean_env.setenv("SZ_IDENTITY_KEY", REAL["SZ_IDENTITY_KEY"])
    clean_env.setenv("SZ_TEMPLATE_KEYS", f"{REAL['SZ_TEMPLATE_KEYS']},{DEV_TEMPLATE_KEYS}")  # dev key kept to decrypt
    clean_env.setenv("SZ_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
    r = CliRunner().invoke(cli, ["server", "--db", sqlite_url, "--port", "0"])
    assert _one_line_error(r) == ("SZ_TEMPLATE_KEYS and SZ_WEBHOOK_SECRET are the repository's development "
                                  "secrets; set SZ_TEMPLATE_KEYS and SZ_WEBHOOK_SECRET or pass --dev")
    clean_env.setenv("SZ_TEMPLATE_KEYS", REAL["SZ_TEMPLATE_KEYS"])
    r = CliRunner().invoke(cli, ["server", "--db", sqlite_url, "--port", "0"])
    assert _one_line_error(r) == ("SZ_WEBHOOK_SECRET is the repository's development key; set SZ_WEBHOOK_SECRET "
                                  "or pass --dev")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # refused before touching the database


def test_per_branch_identity_key_in_toml_is_checked():
    """GIVEN a per-branch identity key that is the development key THEN the check names its TOML key."""
    settings = ServerSettings(identity_key=REAL["SZ_IDENTITY_KEY"], template_keys=REAL["SZ_TEMPLATE_KEYS"],
                              webhook_secret=REAL["SZ_WEBHOOK_SECRET"], identity_keys={"b002": DEV_IDENTITY_KEY})
    with pytest.raises(DevSecretError, match=r"^identity_keys\.b002 \(server\.toml\) is the repository's"):
        check_server_secrets(settings, dev=False)
    check_server_secrets(settings.model_copy(update={"identity_keys": {}}), dev=False)  # real keys: no complaint


def test_dev_mode_warns_loudly(caplog):
    """GIVEN the development defaults WHEN checked with dev=True (--dev, the demo) THEN a warning, no error."""
    with caplog.at_level(logging.WARNING, logger="smartzone.secrets"):
        check_server_secrets(ServerSettings(), dev=True, what="the demo")
    assert "DEVELOPMENT MODE: the demo runs with the repository's development secrets" in caplog.text
    assert DEV_IDENTITY_KEY not in caplog.text and DEV_WEBHOOK_SECRET not in caplog.text


def _serve(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `smartzone server ARGS --port 0` until /readyz answers, stop it; (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "server", *args, "--port", "0"], cwd=REPO,
                            env={**{k: v for k, v in os.environ.items() if k not in SECRET_VARS},
                                 "PYTHONUNBUFFERED": "1", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        def url() -> str | None:
            assert proc.poll() is None, "".join(seen) + proc.stderr.read()
            seen.append(proc.stderr.readline())
            m = re.search(r"console (http://\S+)/ ", seen[-1])
            return m.group(1) if m else None

        base = wait_until(url, 30, 0, "the server's console URL")
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return proc.returncode, "".join(seen) + proc.stderr.read()


@pytest.mark.timeout(60)
def test_server_starts_with_real_keys_or_with_dev(sqlite_url):
    """GIVEN real keys in the environment WHEN the server starts THEN it serves, silent about keys; GIVEN none
    but --dev THEN it serves and logs a loud warning."""
    code, err = _serve(["--db", sqlite_url], REAL)
    assert code == 0 and "DEVELOPMENT MODE" not in err
    assert all(v not in err for v in REAL.values())
    code, err = _serve(["--dev", "--db", sqlite_url], {})
    assert code == 0 and "WARNING smartzone.secrets: DEVELOPMENT MODE: the server runs" in err
    assert DEV_IDENTITY_KEY not in err


def test_hub_refuses_the_development_template_key(sqlite_url, clean_env):
    """GIVEN no SZ_TEMPLATE_KEYS WHEN `smartzone hub` starts THEN it refuses in one line (before the database
    or the broker); the identity key and webhook secret, which the hub does not use, are not asked for."""
    args = ["hub", "--broker", "mqtt://127.0.0.1:9", "--db", sqlite_url]
    assert _one_line_error(CliRunner().invoke(cli, args)) == (
        "SZ_TEMPLATE_KEYS is the repository's development key; set SZ_TEMPLATE_KEYS or pass --dev")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_kiosk_refuses_the_development_branch_key(clean_env, monkeypatch):
    """GIVEN SZ_BRANCH_KEY unset (the config's dev_branch_key would be used) or set to the development key WHEN
    `smartzone kiosk` starts THEN it refuses in one line; with --dev or a real key THEN the kiosk runs."""
    import kiosk_client.ui.kiosk as kiosk_ui

    started: list[str] = []
    monkeypatch.setattr(kiosk_ui, "run_kiosk", lambda path, windowed: started.append(str(path)) or 0)
    runner = CliRunner()
    assert _one_line_error(runner.invoke(cli, ["kiosk", "--config", KIOSK])) == (
        "SZ_BRANCH_KEY is not set and the config's dev_branch_key is for development only; set SZ_BRANCH_KEY "
        "or pass --dev")
    clean_env.setenv("SZ_BRANCH_KEY", DEV_IDENTITY_KEY)
    assert _one_line_error(runner.invoke(cli, ["kiosk", "--config", KIOSK])) == (
        "SZ_BRANCH_KEY is the repository's development key; set SZ_BRANCH_KEY or pass --dev")
    assert started == []
    r = runner.invoke(cli, ["kiosk", "--config", KIOSK, "--dev"])
    assert r.exit_code == 0, r.output
    clean_env.setenv("SZ_BRANCH_KEY", "a-real-branch-key-1")
    r = runner.invoke(cli, ["kiosk", "--config", KIOSK])
    assert r.exit_code == 0, r.output
    assert started == [KIOSK, KIOSK]


def test_secrets_never_shown(tmp_path):
    """GIVEN settings holding secrets WHEN printed (repr, str, JSON) or a file with a bad secret is checked
    THEN no secret value appears."""
    from szconfig.kiosk import KioskConfig

    s = ServerSettings(**{k.removeprefix("SZ_").lower(): v for k, v in REAL.items()},
                       identity_keys={"b001": "per-branch-key-b001"})
    shown = repr(s) + str(s) + s.model_dump_json()
    assert all(v not in shown for v in [*REAL.values(), "per-branch-key-b001"])
    assert s.identity_key.get_secret_value() == REAL["SZ_IDENTITY_KEY"]
    k = KioskConfig.model_validate({"device": "k1", "branch": "b001", "consent_version": "v1",
                                    "local_numbers": {"prefix": "K1"}, "dev_branch_key": "kiosk-dev-key-123"})
    assert "kiosk-dev-key-123" not in repr(k) and k.branch_key() == "kiosk-dev-key-123"

    (tmp_path / "kiosk").mkdir()
    server_toml = tmp_path / "server.toml"
    server_toml.write_text('identity_key = "short7!"\nwebhook_secret = "tiny"\nport = "eighty"\n')
    kiosk_toml = tmp_path / "kiosk" / "k.toml"
    kiosk_toml.write_text('device = "k1"\nbranch = "b001"\nconsent_version = "v1"\nlocal_numbers = {prefix = "K1"}\n'
                          'dev_branch_key = "short"\n')
    r = CliRunner().invoke(cli, ["config", "check", str(server_toml), str(kiosk_toml)])
    assert r.exit_code == 1
    assert "identity_key:" in r.output and "dev_branch_key:" in r.output and "value not shown" in r.output
    assert "'eighty'" in r.output  # other values are still quoted, to help
    assert all(v not in r.output for v in ("short7!", "tiny", "'short'"))
    problems = check_files([server_toml, kiosk_toml])
    assert {p.key for p in problems} == {"identity_key", "webhook_secret", "port", "dev_branch_key"}
