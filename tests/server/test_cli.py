"""`smartzone admin …` and `smartzone server`: the interfaces other tools script against."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from smartzone.cli.main import cli
from tests.conftest import wait_until

REPO = Path(__file__).resolve().parents[2]


def test_admin_create_user_and_reset_password(db_url):
    """GIVEN a database WHEN users are created and reset from the command line THEN the accounts exist
    with their branches, bad requests fail with a message, and every change is audited as `system`."""
    from server.audit.models import AuditEntry
    from server.db import make_engine, session_factory
    from server.staff.service import get_by_username

    runner = CliRunner()
    r = runner.invoke(cli, ["admin", "create-user", "--db", db_url, "--username", "wang", "--role",
                            "branch_manager", "--branch", "b001", "--branch", "b002", "--password-stdin"],
                      input="a long enough secret\n")
    assert r.exit_code == 0, r.output
    assert "created wang (branch_manager; b001, b002)" in r.output and "one-time" not in r.output
    r = runner.invoke(cli, ["admin", "create-user", "--db", db_url, "--username", "hq", "--role", "admin",
                            "--all-branches"])
    assert r.exit_code == 0 and "one-time password: " in r.output
    r = runner.invoke(cli, ["admin", "create-user", "--db", db_url, "--username", "x1", "--role", "teller",
                            "--branch", "b999"])
    assert r.exit_code != 0 and "unknown branch" in r.output
    r = runner.invoke(cli, ["admin", "create-user", "--db", db_url, "--username", "x1", "--role", "teller"])
    assert r.exit_code != 0 and "at least one branch" in r.output
    r = runner.invoke(cli, ["admin", "create-user", "--db", db_url, "--username", "x2", "--role", "teller",
                            "--all-branches"])
    assert r.exit_code != 0 and "only the admin role" in r.output
    r = runner.invoke(cli, ["admin", "reset-password", "--db", db_url, "--username", "wang"])
    assert r.exit_code == 0 and "one-time password: " in r.output
    r = runner.invoke(cli, ["admin", "reset-password", "--db", db_url, "--username", "ghost"])
    assert r.exit_code != 0 and "no staff account" in r.output

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        wang = get_by_username(s, "wang")
        assert wang.branch_ids == ["b001", "b002"] and wang.must_change_password
        hq = get_by_username(s, "hq")
        assert hq.all_branches and hq.branch_ids == []
        actions = [(e.actor, e.action) for e in s.query(AuditEntry).order_by(AuditEntry.id)]
    engine.dispose()
    assert actions == [("system", "staff.create"), ("system", "staff.create"), ("system", "staff.reset_password")]


def test_help_texts():
    """GIVEN the CLI WHEN asking for help THEN server and admin commands explain their options."""
    runner = CliRunner()
    assert "--port" in runner.invoke(cli, ["server", "--help"]).output
    out = runner.invoke(cli, ["admin", "create-user", "--help"]).output
    assert "--password-stdin" in out and "--all-branches" in out and "--branch" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_server_command_serves_and_stops(sqlite_url):
    """GIVEN `smartzone server --db URL --host H --port P` WHEN started THEN it is ready, issues tokens to
    a user made by `admin create-user`, and exits cleanly on SIGTERM."""
    r = CliRunner().invoke(cli, ["admin", "create-user", "--db", sqlite_url, "--username", "ops", "--role",
                                 "maintenance", "--branch", "b001", "--password-stdin"], input="ops password 1\n")
    assert r.exit_code == 0, r.output
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "server", "--dev", "--db", sqlite_url,
                             "--host", "127.0.0.1", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            assert proc.poll() is None, proc.stderr.read()
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 30, 0.1, "the server to be ready")
        tok = httpx.post(f"{base}/api/auth/token", data={"username": "ops", "password": "ops password 1"}).json()
        me = httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {tok['access_token']}"}).json()
        assert me["role"] == "maintenance" and me["branch_ids"] == ["b001"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/" in proc.stderr.read()
