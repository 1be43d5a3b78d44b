"""What the demo uses: one account per role with one-time passwords, and the server on a thread."""

from __future__ import annotations

import httpx
import pytest

from server.staff.models import Role


def test_create_demo_users_is_idempotent(migrated):
    """GIVEN demo users already created WHEN created again THEN the same accounts get fresh passwords."""
    from server.staff.service import create_demo_users, get_by_username

    _engine, factory = migrated
    with factory() as s, s.begin():
        first = create_demo_users(s, ["b001"])
    with factory() as s, s.begin():
        second = create_demo_users(s, ["b001"])
    assert [(u, r) for u, r, _ in first] == [(u, r) for u, r, _ in second]
    assert {r for _, r, _ in first} == {r.value for r in Role}
    assert all(a[2] != b[2] and len(a[2]) == 14 for a, b in zip(first, second, strict=True))
    with factory() as s:
        admin = get_by_username(s, "demo-admin")
        lobby = get_by_username(s, "demo-lobby-staff")
        assert admin.all_branches and lobby.branch_ids == ["b001"] and lobby.must_change_password


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_server_thread_serves_and_stops(migrated):
    """GIVEN the app on a ServerThread with port 0 WHEN started THEN .url answers; stop() ends the thread."""
    from server.app import create_app
    from server.runner import ServerThread

    engine, _factory = migrated
    srv = ServerThread(create_app(engine=engine), "127.0.0.1", 0).start()
    try:
        assert srv.port != 0 and srv.url == f"http://127.0.0.1:{srv.port}"
        assert httpx.get(f"{srv.url}/readyz").json()["status"] == "ready"
    finally:
        srv.stop()
    assert not srv.thread.is_alive()


def test_virtual_tellers_speed_up_as_the_line_grows_and_slow_down_as_it_shrinks():
    """GIVEN the demo's virtual tellers THEN their time per customer falls as the line grows past the target
    and rises as it shrinks, within bounds, so the demo's queue neither runs away nor empties for long."""
    from smartzone.demo import TELLER_FASTEST_S, TELLER_PACE_S, TELLER_SLOWEST_S, TELLER_TARGET_WAITING, service_time

    assert service_time(TELLER_TARGET_WAITING) == TELLER_PACE_S
    times = [service_time(n) for n in range(0, 200)]
    assert times == sorted(times, reverse=True)  # never slower for a longer line
    assert times[0] <= TELLER_SLOWEST_S and times[-1] == TELLER_FASTEST_S
