"""The command line: config check knows kiosk files; --screenshot renders every screen without a display."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from smartzone.cli.main import cli
from szconfig import check_files

REPO = Path(__file__).resolve().parents[2]


def test_kiosk_configs_are_checked():
    assert check_files(sorted((REPO / "configs" / "kiosk").glob("*.toml"))) == []


def test_bad_kiosk_config_names_the_key(tmp_path):
    bad = tmp_path / "kiosk" / "x.toml"
    bad.parent.mkdir()
    bad.write_text('device = "k1"\nbranch = "b001"\nconsent_version = "v1"\nlocal_numbers = {prefix = "k1"}\n'
                   'printr = {port = "sim"}\n')
    problems = {p.key for p in check_files([bad])}
    assert {"local_numbers.prefix", "printr"} <= problems


def test_screenshot_writes_every_screen_and_mode(tmp_path):
    """GIVEN no display WHEN `smartzone kiosk --screenshot DIR` THEN one PNG per screen, language and mode."""
    out = tmp_path / "shots"
    proc = subprocess.run([sys.executable, "-m", "smartzone.cli.main", "kiosk", "--config",
                           str(REPO / "configs" / "kiosk" / "b001-k1.toml"), "--screenshot", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.glob("*.png")}
    for screen in ("attract", "business", "identify", "consent", "ticket", "survey", "out_of_service"):
        assert {f"{screen}-zh.png", f"{screen}-en.png", f"{screen}-zh-elder.png", f"{screen}-en-elder.png"} <= names
    assert all(p.stat().st_size > 5000 for p in out.glob("*.png"))


def test_cjk_renders_offscreen(qtbot):
    """Chinese needs a CJK font (fonts-wqy-microhei or fonts-noto-cjk); without one Qt draws empty boxes."""
    from PySide6.QtGui import QFont, QFontMetrics

    from kiosk_client.ui.theme import cjk_family

    family = cjk_family()
    assert family, "no CJK font installed: apt-get install fonts-wqy-microhei"
    assert QFontMetrics(QFont(family)).inFont("号")


def test_help_texts():
    runner = CliRunner()
    assert "--screenshot" in runner.invoke(cli, ["kiosk", "--help"]).output
    assert "retained queue board" in runner.invoke(cli, ["display", "--help"]).output
