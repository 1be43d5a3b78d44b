"""Test helpers: a hub in a thread or a child process, and simulated kiosks, against real parts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from device_hub.ingest import runner
from device_hub.ingest.hub import Hub, IngestOptions
from device_hub.link.mqtt import SessionOptions, parse_broker_url
from device_hub.sim.devices import SimPlan, SimResult, run_devices
from tests.open_hours import OPEN_CONFIGS

REPO = Path(__file__).resolve().parents[2]


class HubThread(runner.HubThread):
    """The real ingest loop on a thread for the demo branches, stopped (drain, commit, ack) on exit."""

    def __init__(self, broker_url: str, factory, *, client_id: str = "sz-hub-test", **options):
        super().__init__(Hub(url=parse_broker_url(broker_url), db=factory, branches={"b001", "b002"},
                             session=SessionOptions(client_id=client_id), options=IngestOptions(**options)))


def hub_process(broker_url: str, db_url: str, log: Path) -> subprocess.Popen:
    """`smartzone hub` as a child process, as production runs it."""
    env = dict(os.environ, SZ_CONFIG_DIR=str(OPEN_CONFIGS))
    return subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "-v", "hub", "--broker", broker_url,
                             "--db", db_url, "--client-id", "sz-hub-proc", "--dev"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=REPO)


def simulate(broker_url: str, *, branch: str = "b001", count: int = 5, events: int = 100,
             stop: threading.Event | None = None, seed: int = 1, prefix: str = "sim",
             confirm_timeout_s: float = 30.0) -> SimResult:
    plan = SimPlan(branch=branch, count=count, events=events, heartbeat_s=1.0, seed=seed,
                   businesses=("deposit", "card", "wealth"), device_prefix=prefix, track_ids=True,
                   confirm_timeout_s=confirm_timeout_s)
    return run_devices(parse_broker_url(broker_url), plan, stop or threading.Event())
