"""The bridge over TLS: the central broker listens only with TLS, under a CA made for the test; each edge
connects with mqtts and its branch's own account (docs/brokers.md#edge-bridge)."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from server.link.models import LinkState
from server.queueing.models import TicketStep
from tests.spine.hubkit import simulate
from tests.support import wait_until
from tests.topology.kit import backlog, central_hub, edge_hub, event_ids, make_pki, start_centre, start_edge


def _link(edge) -> bool | None:
    with edge.factory() as s:
        state = s.get(LinkState, edge.branch)
        return None if state is None else state.up


def _log(edge) -> str:
    return (edge.broker.data_dir / "mosquitto.log").read_text(errors="replace")


def _connected(centre) -> str:
    """The central broker's log lines of clients and bridges that got in."""
    log = (centre.broker.data_dir / "mosquitto.log").read_text(errors="replace")
    return "\n".join(line for line in log.splitlines() if " connected from " in line)


def test_the_bridge_runs_over_tls_with_the_branch_account_and_refuses_what_it_cannot_verify(tmp_path) -> None:
    """GIVEN a central Mosquitto with a TLS listener only (a CA and a server certificate for 127.0.0.1 made by
    the test), b001's edge bridged with mqtts, the central CA and `edge@b001`'s password, and b002's edge
    trusting another CA WHEN b001's kiosks issue tickets THEN b001's events and queue steps reach the centre
    and are confirmed over TLS, its link is up and the central broker saw the bridge sign in as `edge@b001`;
    b002's bridge refuses the centre's certificate and never signs in; a plain MQTT connection to the central
    broker gets no answer."""
    pki, rogue = make_pki(tmp_path / "pki"), make_pki(tmp_path / "rogue", "rogue")
    centre = start_centre(tmp_path, f"sqlite:///{tmp_path / 'central.db'}", tls=pki)
    hubs = [central_hub(centre)]
    hubs[0].start()  # its session first: what the bridges send up finds it
    b001 = start_edge(tmp_path, centre, "b001")
    # b002's edge trusts another CA; no client of its own (Mosquitto 2.0.11 sometimes aborts with a double
    # free while clients come and go and its TLS bridge keeps failing: docs/brokers.md#edge-bridge)
    b002_log = tmp_path / "edge-b002-bridge.log"
    b002 = start_edge(tmp_path, centre, "b002", ca_file=rogue.ca, log_file=b002_log)
    assert "bridge_cafile" in (b001.broker.data_dir / "mosquitto.conf").read_text()
    hubs += [edge_hub(b001)]
    try:
        for h in hubs[1:]:
            h.start()
        made = simulate(b001.broker.url, branch="b001", count=3, events=20, prefix="k")
        assert made.unconfirmed == 0
        wait_until(lambda: backlog(b001.factory) == 0 and set(event_ids(b001.factory))
                   <= set(event_ids(centre.factory)), timeout=60, message="b001's events confirmed over TLS")
        with b001.factory() as s:
            assert s.scalar(select(func.count()).select_from(TicketStep)) > 0  # its queue went up with them
        assert set(event_ids(centre.factory, "b001")) == set(event_ids(b001.factory))

        wait_until(lambda: b002_log.exists() and "certificate verify failed" in b002_log.read_text(errors="replace"),
                   timeout=30, message="b002's bridge refusing a certificate its CA did not sign")
        assert _link(b001) is True

        with socket.create_connection(("127.0.0.1", centre.broker.port), timeout=5) as plain:
            plain.sendall(bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 0]))  # CONNECT, no TLS
            plain.settimeout(5)
            try:
                answer = plain.recv(4)
            except OSError:
                answer = b""
        assert not answer.startswith(b"\x20")  # no CONNACK: the listener speaks TLS only
    finally:
        for h in reversed(hubs):
            h.stop()
        for e in (b001, b002):
            e.plug.stop()
            e.broker.stop()
        centre.broker.stop()
    # the brokers' logs are complete once they stopped
    assert "certificate verify failed" not in _log(b001) and "sz-edge-b001" in _connected(centre)
    assert "u'edge@b001'" in _connected(centre) and "sz-edge-b002" not in _connected(centre)
