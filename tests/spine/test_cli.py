"""The command line: help everywhere, and the interfaces others script against."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from smartzone.cli.main import cli
from tests.open_hours import OPEN_CONFIGS
from tests.spine.hubkit import REPO, HubThread
from tests.support import wait_until


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*prefix, name))


@pytest.mark.parametrize("path", list(_walk(cli)), ids=lambda p: " ".join(p))
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    """GIVEN any subcommand WHEN called with --help THEN it explains itself and exits 0."""
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_protocol_schema_is_json() -> None:
    """GIVEN `protocol schema` THEN stdout is a JSON Schema naming the envelope fields and every message type
    of both directions."""
    from wire import ALL_DEVICE_TYPES, HUB_TYPES

    result = CliRunner().invoke(cli, ["protocol", "schema"])
    schema = json.loads(result.output)
    assert "DeviceMessage" in schema["$defs"] and '"seq"' in result.output
    named = {t for side in ("DeviceMessage", "HubMessage") for t in schema["$defs"][side]["discriminator"]["mapping"]}
    assert named == set(ALL_DEVICE_TYPES) | set(HUB_TYPES)


def test_sim_and_stats_agree(mosquitto, migrated) -> None:
    """GIVEN the hub running WHEN `sim devices --json` runs twice THEN `stats --json` counts
    exactly the sum of what the two runs say they published."""
    _engine, factory = migrated
    runs = []
    with HubThread(mosquitto.url, factory):
        for seed in ("1", "2"):
            out = subprocess.run([sys.executable, "-m", "smartzone.cli.main", "sim", "devices", "--broker",
                                  mosquitto.url, "--branch", "b002", "--count", "2", "--events", "40",
                                  "--seed", seed, "--json"], capture_output=True, text=True, cwd=REPO, timeout=60)
            assert out.returncode == 0, out.stderr
            runs.append(json.loads(out.stdout)["published"])
        def stats() -> dict:
            r = CliRunner().invoke(cli, ["stats", "--db", migrated[0].url.render_as_string(False), "--json"])
            return json.loads(r.output)

        wait_until(lambda: stats()["events"] >= sum(runs), timeout=30, message="stats to catch up")
    s = stats()
    assert s["events"] == sum(runs) == 2 * (2 * 40 + 2 * 2)  # events + birth and goodbye per kiosk
    assert {"events", "dead_letters", "devices", "visits", "touchpoints"} <= s.keys()


@pytest.mark.slow
def test_demo_headless_json(tmp_path: Path) -> None:
    """GIVEN a fresh folder WHEN `demo --headless --seconds 6 --json --var DIR` runs THEN it prints a summary
    where everything published was stored and the planted bad messages were dead-lettered; it wrote nothing
    outside DIR; the commands it prints run from anywhere, and the kiosk's QR codes open its real console."""
    work = tmp_path / "here"
    work.mkdir()
    var = tmp_path / "var"
    out = subprocess.run([sys.executable, "-m", "smartzone.cli.main", "demo", "--headless", "--seconds", "6",
                          "--json", "--port", "0", "--var", str(var)], capture_output=True, text=True, cwd=work,
                         timeout=120, env={**os.environ, "SZ_CONFIG_DIR": str(OPEN_CONFIGS)})
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert summary["published"] > 0 and summary["stored"] == summary["published"]
    assert summary["lost"] == 0 and summary["dead_lettered"] == 3
    assert "staff console: http://127.0.0.1:" in out.stderr and "demo-lobby-staff" in out.stderr
    assert list(work.iterdir()) == [] and (var / "smartzone.db").is_file()  # --var holds everything
    console = re.search(r"staff console: (http://127\.0\.0\.1:\d+)/", out.stderr).group(1)
    kiosk, display = (line.strip() for line in out.stderr.splitlines() if line.strip().startswith("SZ_MQTT_PASSWORD="))
    words = shlex.split(kiosk)
    exe = words[1]
    assert Path(exe).is_absolute() and os.access(exe, os.X_OK) and " smartzone " not in f" {kiosk} "
    assert words[words.index("--ticket-page-base") + 1] == console  # not a fixed port 8000
    assert words[words.index("--var") + 1].startswith(str(var)) and Path(words[words.index("--config") + 1]).is_file()
    assert shlex.split(display)[1] == exe
    runs = subprocess.run([*words[1:words.index("--windowed")], "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)  # as printed, from another folder (--help: no window)
    assert runs.returncode == 0 and "--ticket-page-base" in runs.stdout


def test_demo_topology_edge_survives_a_pulled_plug(tmp_path: Path) -> None:
    """GIVEN a fresh folder WHEN `demo --topology edge` runs with b001's plug pulled for 3 s THEN b001's line says
    its link went down, and the summary shows every event of both branches at its edge and at the centre."""
    out = subprocess.run([sys.executable, "-m", "smartzone.cli.main", "demo", "--topology", "edge", "--headless",
                          "--seconds", "8", "--outage", "b001:2:3", "--json", "--port", "0", "--var", str(tmp_path)],
                         capture_output=True, text=True, timeout=180, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert set(summary) == {"b001", "b002"}
    for row in summary.values():
        assert row["published"] > 0 and row["lost"] == 0 and row["at_centre"] == row["at_edge"] >= row["published"]
    assert "b001 link DOWN" in out.stderr and "edge console of b002: http://127.0.0.1:" in out.stderr
