"""`smartzone hub --workers N`: several processes share the subscription; nothing lost, nothing doubled."""

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.open_hours import OPEN_CONFIGS
from tests.spine.hubkit import REPO, simulate
from tests.spine.test_faults import assert_exactly_once, distinct_ids, stored
from tests.support import wait_until


def _workers(log: Path) -> dict[int, int]:
    """Worker index → pid of its latest start, from the supervisor's log."""
    return {int(i): int(pid) for i, pid in re.findall(r"hub worker (\d+) started \(pid (\d+)\)", log.read_text())}


@pytest.mark.slow
def test_two_workers_share_the_stream_and_survive_a_killed_worker(mosquitto, migrated, db_url,
                                                                   tmp_path: Path) -> None:
    """GIVEN `smartzone hub --workers 2` as a child process WHEN kiosks publish 4,000 events and one
    worker is killed with SIGKILL mid-stream THEN the supervisor starts it again, every event is
    stored exactly once, both workers took a share, and SIGTERM stops everything cleanly."""
    _engine, factory = migrated
    log = tmp_path / "hub.log"
    env = dict(os.environ, SZ_CONFIG_DIR=str(OPEN_CONFIGS))
    hub = subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "-v", "hub", "--dev", "--broker", mosquitto.url,
                            "--db", db_url, "--client-id", "sz-hub-pair", "--workers", "2"],
                           stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=REPO)
    box: dict = {}
    sim = threading.Thread(target=lambda: box.setdefault(
        "r", simulate(mosquitto.url, count=4, events=1000, confirm_timeout_s=3)))
    try:
        wait_until(lambda: log.read_text().count("ready:") >= 2, timeout=30, message="both workers subscribed")
        first = _workers(log)
        assert sorted(first) == [0, 1]
        sim.start()
        wait_until(lambda: stored(factory) >= 1_000, timeout=60, message="the workers mid-stream")
        os.kill(first[1], signal.SIGKILL)
        wait_until(lambda: _workers(log).get(1, first[1]) != first[1], timeout=30, message="worker 1 restarted")
        sim.join(120)
        assert not sim.is_alive()
        published = box["r"].published
        # births, 4,000 events, goodbyes: all confirmed (a confirmation the killed worker never sent is
        # made up by a resend after 3 s, well inside the kiosks' goodbye wait)
        assert published == len(box["r"].ids) == 4_008 and box["r"].unconfirmed == 0
        wait_until(lambda: stored(factory) >= published, timeout=90, message="every event stored")
    finally:
        hub.send_signal(signal.SIGTERM)
        code = hub.wait(60)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert stored(factory) == published == distinct_ids(factory)
    assert_exactly_once(factory, box["r"].ids)
    shares = {w: int(n) for w, n in re.findall(r"hub stopped \(sz-hub-pair\.w(\d)\): received (\d+)", text)}
    assert sorted(shares) == ["0", "1"] and min(shares.values()) > 0, text[-2000:]
    assert "exited with code -9; restarting it" in text
