"""The topology's commands: clear errors, the edge account and its bridge section."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from smartzone.cli.main import cli


def test_provision_edge_writes_the_branch_scoped_account(tmp_path: Path) -> None:
    """GIVEN an account store WHEN `devices provision-edge --branch b001` runs THEN edge@b001 exists with a secret
    shown once, and the broker's ACL lets it publish only b001's up topics and heartbeats."""
    out = CliRunner().invoke(cli, ["devices", "provision-edge", "--branch", "b001", "--dir", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)[0]
    assert row["username"] == "edge@b001" and row["role"] == "edge" and len(row["secret"]) > 30
    acl = (tmp_path / "acl").read_text()
    assert "user edge@b001\ntopic write sz/v1/b001/up/#\ntopic write sz/v1/b001/dev/+/hb\n" in acl
    assert "b002" not in acl and "sz/v1/#" not in acl


def test_edge_prints_its_bridge_and_refuses_what_it_cannot_use(monkeypatch) -> None:
    """GIVEN `smartzone edge` WHEN asked for its bridge section THEN it names the branch's account, TLS CA and
    topics; WHEN the centre, its password or the branch is missing THEN it says what to give, without a trace."""
    runner = CliRunner()
    monkeypatch.setenv("SZ_CENTRAL_PASSWORD", "s3cret-for-test")
    out = runner.invoke(cli, ["edge", "--branch", "b001", "--central", "mqtts://central.example:8883",
                              "--central-ca-file", "/etc/smartzone/ca.crt", "--print-bridge"])
    assert out.exit_code == 0, out.output
    assert "address central.example:8883" in out.output and "remote_username edge@b001" in out.output
    assert "bridge_cafile /etc/smartzone/ca.crt" in out.output and "topic sz/v1/b001/up/# out 1" in out.output
    assert "topic sz/v1/b001/dev/+/cmd in 1" in out.output and "cleansession false" in out.output
    bare = ["edge", "--branch", "b001", "--print-bridge", "--central"]
    out = runner.invoke(cli, [*bare, "mqtts://central.example:8883"])
    assert out.exit_code == 0 and "bridge_capath /etc/ssl/certs" in out.output  # mqtts is never sent in clear
    assert "bridge_insecure false" in out.output
    out = runner.invoke(cli, [*bare, "mqtt://central.example:1883"])
    assert out.exit_code == 0 and "bridge_ca" not in out.output
    for args, says in ((["edge", "--branch", "b001"], "needs the central broker"),
                       (["edge", "--central", "mqtt://127.0.0.1:1883"], "needs the branch it serves"),
                       (["edge", "--branch", "b001", "--central", "ftp://x"], "expected mqtt://"),
                       (["hub", "--role", "edge"], "needs the branch it serves")):
        out = runner.invoke(cli, args)
        assert out.exit_code != 0 and says in out.output and "Traceback" not in out.output, (args, out.output)
    monkeypatch.delenv("SZ_CENTRAL_PASSWORD")
    out = runner.invoke(cli, ["edge", "--branch", "b001", "--central", "mqtt://127.0.0.1:1883"])
    assert out.exit_code != 0 and "SZ_CENTRAL_PASSWORD" in out.output
