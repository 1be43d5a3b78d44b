"""kill -9 during an edge's catch-up: of the edge hub, of a central hub worker, of the central broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.open_hours import OPEN_CONFIGS
from tests.spine.hubkit import simulate
from tests.support import wait_until
from tests.topology.kit import REPO, backlog, event_ids, start_centre, start_edge, steps_queued

KIOSKS, EVENTS = 5, 400  # a backlog of 2,010 events (with births and goodbyes)


def _cli(log: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "smartzone.cli.main", "-v", *args, "--dev"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=REPO,
                            env=dict(os.environ, SZ_CONFIG_DIR=str(OPEN_CONFIGS), **env))


def _workers(log: Path) -> dict[int, int]:
    return {int(i): int(p) for i, p in re.findall(r"hub worker (\d+) started \(pid (\d+)\)", log.read_text())}


@pytest.mark.postgres
def test_catch_up_survives_kill_9_of_edge_hub_central_worker_and_central_broker(tmp_path, pg_url) -> None:
    """GIVEN b001's edge (`smartzone hub --role edge`) holding a backlog of 2,010 kiosk events made while its link
    was cut and the queue steps of the tickets it issued meanwhile, and the centre (`smartzone central --workers 2`
    on PostgreSQL) WHEN the link returns and, during the catch-up, the edge hub, then a central worker, then the central
    broker are killed with SIGKILL and started again
    THEN the centre ends up with exactly the edge's events, each once, and the edge's backlog is empty; the
    centre's mirror of the branch's tickets has each step once and every ticket as the edge holds it."""
    centre = start_centre(tmp_path, pg_url, branches=("b001",))
    edge = start_edge(tmp_path, centre, "b001")
    edge_log, central_log = tmp_path / "edge.log", tmp_path / "central.log"

    def edge_hub() -> subprocess.Popen:
        return _cli(edge_log, "hub", "--role", "edge", "--branch", "b001", "--broker", edge.broker.url,
                    "--db", edge.db_url, "--client-id", "sz-edge-b001", SZ_UPLINK_CONFIRM_TIMEOUT_S="2",
                    SZ_UPLINK_WINDOW="200")  # small steps, so every kill lands mid-catch-up

    procs = {"edge": edge_hub(),
             "central": _cli(central_log, "central", "--broker", centre.broker.url, "--username", "hub",
                             "--db", pg_url, "--workers", "2", SZ_MQTT_PASSWORD=centre.secrets["hub"])}
    try:
        wait_until(lambda: "ready:" in edge_log.read_text() and central_log.read_text().count("ready:") >= 2,
                   timeout=60, message="edge hub and both central workers subscribed")
        edge.plug.pull()
        made = simulate(edge.broker.url, branch="b001", count=KIOSKS, events=EVENTS, prefix="k")
        assert made.unconfirmed == 0 and len(made.ids) == KIOSKS * (EVENTS + 2)
        wait_until(lambda: steps_queued(edge.factory), timeout=30, message="the edge's ticket steps queued to go up")
        held = len(event_ids(edge.factory))  # the kiosks' events and the branch's queue steps
        assert backlog(edge.factory) == held and event_ids(centre.factory) == []

        edge.plug.restore()
        wait_until(lambda: len(event_ids(centre.factory)) >= held // 5, timeout=60, message="catch-up begun")
        os.kill(procs["edge"].pid, signal.SIGKILL)
        procs["edge"].wait(10)
        at_kill = {"edge hub": len(event_ids(centre.factory))}
        procs["edge"] = edge_hub()

        wait_until(lambda: len(event_ids(centre.factory)) >= held // 2, timeout=60, message="catch-up halfway")
        first = _workers(central_log)
        os.kill(first[1], signal.SIGKILL)
        at_kill["central worker"] = len(event_ids(centre.factory))
        wait_until(lambda: _workers(central_log)[1] != first[1], timeout=30, message="central worker restarted")

        wait_until(lambda: len(event_ids(centre.factory)) >= held * 7 // 10, timeout=60, message="catch-up at 70%")
        centre.broker.stop(kill=True)
        at_kill["central broker"] = len(event_ids(centre.factory))
        centre.broker.start()

        wait_until(lambda: backlog(edge.factory) == 0, timeout=120, message="the edge's backlog confirmed")
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        codes = {name: p.wait(60) for name, p in procs.items()}
        edge.plug.stop()
        edge.broker.stop()
        centre.broker.stop()
    assert all(n < held for n in at_kill.values()), f"a kill came after the catch-up: {at_kill} of {held}"
    at_edge, at_centre = event_ids(edge.factory), event_ids(centre.factory)
    assert len(at_centre) == len(set(at_centre)) == len(at_edge) == held
    assert set(at_centre) == set(at_edge) >= set(made.ids)
    assert codes == {"edge": 0, "central": 0}, (edge_log.read_text()[-1500:], central_log.read_text()[-1500:])
    assert "exited with code -9; restarting it" in central_log.read_text()
    at_edge_q, at_centre_q = _queue(edge.factory), _queue(centre.factory)
    assert at_centre_q == at_edge_q and at_edge_q[0] > 0


def _queue(factory) -> tuple[int, list[tuple]]:
    from sqlalchemy import func, select

    from server.queueing.models import Ticket, TicketStep

    with factory() as s:
        return (s.scalar(select(func.count()).select_from(TicketStep)),
                [(t.display, str(t.status), t.issued_at) for t in s.scalars(select(Ticket).order_by(Ticket.display))])
