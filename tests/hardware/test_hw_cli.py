"""The command lines others script against: `smartzone sim …` in a subprocess, `smartzone hw …` against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SMARTZONE = [sys.executable, "-m", "smartzone.cli.main"]


def _smartzone(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMARTZONE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "SZ_BRANCH_KEY": "test-key"})


@pytest.fixture
def run_sim() -> Iterator:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> dict:
        proc = subprocess.Popen([*SMARTZONE, "sim", *args, "--json"], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the simulator is ready (or exits)
        assert line, f"simulator exited with {proc.wait()}"
        return json.loads(line)

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_main_module_runs() -> None:
    """GIVEN the package WHEN `python -m smartzone.cli.main --help` runs THEN hw, face and sim are listed."""
    out = _smartzone("--help").stdout
    assert "hw" in out and "face" in out and "sim" in out


def test_sim_printer_and_hw_commands(run_sim, tmp_path: Path) -> None:
    """GIVEN `smartzone sim printer --json --out DIR` WHEN status and a test page go to its port
    THEN JSON status, DIR/1.txt and DIR/1.png; with paper out the print fails with the reason."""
    info = run_sim("printer", "--out", str(tmp_path))
    assert set(info) >= {"port", "control"} and info["control"].startswith("unix:")
    status = _smartzone("hw", "printer-status", "--port", info["port"], "--json")
    assert status.returncode == 0, status.stderr
    expected = {"device": "online", "paper": "full", "coverOpen": False, "detail": ""}
    assert json.loads(status.stdout) == expected
    printed = _smartzone("hw", "print-test", "--port", info["port"])
    assert printed.returncode == 0, printed.stderr
    assert "打印测试 TEST" in (tmp_path / "1.txt").read_text(encoding="utf-8")
    assert (tmp_path / "1.png").stat().st_size > 0
    answer = _smartzone("sim", "control", info["control"], "paper", "out")
    assert json.loads(answer.stdout)["paper"] == "out"
    failed = _smartzone("hw", "print-test", "--port", info["port"])
    assert failed.returncode != 0 and "out of paper" in failed.stderr
    after = _smartzone("hw", "printer-status", "--port", info["port"], "--json")
    assert json.loads(after.stdout)["paper"] == "out"


def test_sim_card_reader_and_card_read(run_sim) -> None:
    """GIVEN `smartzone sim card-reader --json` with a bank card inserted WHEN `hw card-read --json` runs
    THEN it prints the masked number and keyed hash, never the clear number."""
    info = run_sim("card-reader")
    status = json.loads(_smartzone("hw", "card-status", "--port", info["port"], "--json").stdout)
    assert status["device"] == "online" and status["media"] == "notPresent"
    assert json.loads(_smartzone("sim", "control", info["control"], "insert", "bank").stdout)["ok"]
    read = _smartzone("hw", "card-read", "--port", info["port"], "--json")
    assert read.returncode == 0, read.stderr
    data = json.loads(read.stdout)
    assert data["masked"] == "622202*********0128" and len(data["hash"]) == 64
    assert "6222021234567890128" not in read.stdout + read.stderr
    status = json.loads(_smartzone("hw", "card-status", "--port", info["port"], "--json").stdout)
    assert status["media"] == "entering"  # ejected to the gate


def test_sim_id_reader_and_id_read(run_sim) -> None:
    """GIVEN `smartzone sim id-reader --json` with an ID card WHEN `hw id-read --json` runs THEN
    masked fields."""
    info = run_sim("id-reader")
    _smartzone("sim", "control", info["control"], "insert", "id")
    data = json.loads(_smartzone("hw", "id-read", "--port", info["port"], "--json").stdout)
    assert data["masked"] == "110***********002X" and data["name"] == "张*"


def test_hw_commands_on_a_missing_port(tmp_path: Path) -> None:
    """GIVEN no device at the port WHEN status commands run THEN exit 1 with noDevice, no traceback."""
    for command in ("printer-status", "card-status"):
        result = _smartzone("hw", command, "--port", str(tmp_path / "none"), "--json")
        assert result.returncode == 1 and json.loads(result.stdout)["device"] == "noDevice"
        assert "Traceback" not in result.stderr
