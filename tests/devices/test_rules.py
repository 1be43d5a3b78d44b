"""Pure fleet logic without I/O: alarm conditions and lifecycle, work-order states, command safety, roll-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.alarms.models import AlarmStatus, AlarmType, Severity
from server.alarms.rules import acknowledge, card_retained, clear, escalation_due, status_conditions
from server.devices import utilisation as u
from server.devices.commands import CommandName, refusal
from server.errors import Conflict
from server.workorders.rules import durations, next_status

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # a Monday; 08:30 Shanghai = 00:30 UTC
HOURS = [{"weekday": d, "open": "08:30:00", "close": "17:00:00"} for d in ("mon", "tue", "wed", "thu", "fri")]


def at(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def test_status_conditions_map_xfs_states_to_alarms():
    """GIVEN component statuses WHEN evaluated THEN each fault maps to its alarm type and severity (worst wins)."""
    c = status_conditions({
        "printer": {"device": "userError", "paper": "out"},
        "cardReader": {"device": "hardwareError", "media": "jammed", "retain_bin": "high"},
        "camera": {"device": "offline"},
    })
    assert {t: x.severity for t, x in c.items()} == {
        AlarmType.PAPER_OUT: Severity.MAJOR, AlarmType.HARDWARE_ERROR: Severity.CRITICAL,
        AlarmType.MEDIA_JAMMED: Severity.MAJOR, AlarmType.RETAIN_BIN_HIGH: Severity.WARNING,
        AlarmType.CAMERA_INOP: Severity.MINOR}
    assert status_conditions({"printer": {"device": "online", "paper": "full"}, "camera": {"device": "online"}}) == {}
    assert card_retained({"retain_count": 3}, {"retain_count": 4}) and not card_retained(None, {"retain_count": 1})


def test_alarm_lifecycle_and_escalation():
    """GIVEN the ISA-18.2-style states WHEN acknowledged and cleared in either order THEN both paths end CLEARED_ACK,
    and only an unacknowledged alarm escalates, every interval, up to level 3."""
    assert clear(acknowledge(AlarmStatus.ACTIVE_UNACK)) == AlarmStatus.CLEARED_ACK
    assert acknowledge(clear(AlarmStatus.ACTIVE_UNACK)) == AlarmStatus.CLEARED_ACK
    assert acknowledge(AlarmStatus.ACTIVE_ACK) == AlarmStatus.ACTIVE_ACK  # idempotent
    kw = {"started_at": at(0), "now": at(0.3), "after": timedelta(minutes=15)}
    assert escalation_due(status="ACTIVE_UNACK", escalated_at=None, level=0, **kw)
    assert not escalation_due(status="ACTIVE_ACK", escalated_at=None, level=0, **kw)
    assert not escalation_due(status="ACTIVE_UNACK", escalated_at=at(0.25), level=1, **kw)
    assert not escalation_due(status="ACTIVE_UNACK", escalated_at=None, level=3, **kw)


def test_work_order_state_machine_and_durations():
    """GIVEN a work order WHEN moved through its states THEN only allowed steps pass and durations are from opening."""
    assert next_status("open", "assign") == "assigned"
    assert next_status("assigned", "arrive") == "on_site"
    assert next_status("on_site", "resolve") == "resolved"
    assert next_status("resolved", "close") == "closed"
    for state, action in [("open", "close"), ("closed", "resolve"), ("resolved", "arrive")]:
        with pytest.raises(Conflict):
            next_status(state, action)
    assert durations(opened_at=at(0), assigned_at=at(0.1), arrived_at=at(0.5), resolved_at=at(1)) == {
        "to_acknowledge_s": 360.0, "to_arrive_s": 1800.0, "to_fix_s": 3600.0}


def test_commands_refused_when_unsafe():
    """GIVEN a card inside or no paper WHEN restart / print_test is asked THEN refused with the reason."""
    card_in = {"cardReader": {"media": "present"}}
    assert "card" in refusal(CommandName.RESTART, card_in)
    assert refusal(CommandName.DIAGNOSTICS, card_in) is None
    assert "out" in refusal(CommandName.PRINT_TEST, {"printer": {"paper": "out"}})
    assert refusal(CommandName.RESTART, {"cardReader": {"media": "notPresent"}}) is None


def test_scripted_day_has_known_availability_and_utilisation():
    """GIVEN Monday's opening 08:30-17:00 Shanghai (8.5 h), a kiosk in service except 10:00-11:00 local (paper out),
    and 30 sessions of 6 min each (one failed, one straddling the outage, one before opening)
    WHEN rolled up per hour and summed THEN availability = 7.5/8.5 and utilisation = busy/available exactly."""
    opening = u.opening_intervals(HOURS, "Asia/Shanghai", at(0), at(24))
    assert opening == [(at(0.5), at(9))]
    # service: up from midnight UTC, down 02:00-03:00 UTC (10:00-11:00 local)
    in_service = u.state_intervals([(at(2), False), (at(3), True)], True, at(0), at(24))
    sessions = [u.Session(at(1 + i * 0.2), at(1 + i * 0.2) + timedelta(minutes=6), failed=(i == 7)) for i in range(28)]
    sessions.append(u.Session(at(1.95), at(2.05), failed=False))  # 3 of its 6 minutes fall in the outage
    sessions.append(u.Session(at(0.2), at(0.3), failed=False))  # before opening: counted, not busy
    per_hour = [u.usage(start=h, end=h + timedelta(hours=1), opening=opening, in_service=in_service,
                        sessions=sessions) for h in u.hours_between(at(0), at(24))]
    day = u.add(per_hour)
    assert day.open_s == 8.5 * 3600
    assert day.available_s == 7.5 * 3600
    assert day.availability == round(7.5 / 8.5, 4)
    # 28 sessions x 6 min, minus the ones inside the outage (02:00-03:00 UTC: starts at 2.0, 2.2, 2.4, 2.6, 2.8)
    busy_min = 28 * 6 - 5 * 6 + 3
    assert day.busy_s == busy_min * 60
    assert day.utilisation == round(busy_min * 60 / (7.5 * 3600), 4)
    assert (day.sessions, day.failed) == (30, 1)
    assert u.mttr([(at(0), at(0) + timedelta(seconds=30), at(0) + timedelta(minutes=5), at(1))]) == {
        "detect_s": 30.0, "acknowledge_s": 270.0, "fix_s": 3300.0}


def test_paper_forecast_learns_rolls_and_hours():
    """GIVEN a printer whose rolls reached low at 120 receipts and ran out at ~130, used 10 receipts an hour 09-17
    (Shanghai) every day for two weeks
    WHEN 100 receipts are printed on the current roll at 10:00 on a usual day
    THEN it forecasts low at 12:00 and out at 13:00 (skipping the closed night when needed); a busier day brings it
    forward; with no finished roll the configured capacity stands in for `out` and low is unknown."""
    from server.devices import paper

    day = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
    hours = [(day - timedelta(days=d) + timedelta(hours=h), 10) for d in range(15) for h in range(-1, 7)]
    rolls = [paper.Roll(120, 130), paper.Roll(121, None), paper.Roll(119, 129)]
    since = day - timedelta(days=14)
    model = paper.learn(rolls, hours, tz="Asia/Shanghai", now=day, capacity=400, since=since)
    assert (model.to_low, model.to_out, model.rolls, model.learned_out) == (120, 129.5, 3, True)
    usual = paper.forecast(model, printed=100, now=day, tz="Asia/Shanghai", recent=10)  # 09:00-10:00 as usual
    assert usual.low_at == day + timedelta(hours=2)
    assert usual.out_at == day + timedelta(hours=2, minutes=57)
    busy = paper.forecast(model, printed=100, now=day, tz="Asia/Shanghai", recent=20)  # twice the usual pace
    assert busy.low_at == day + timedelta(hours=1)
    late = paper.forecast(model, printed=125, now=day + timedelta(hours=7), tz="Asia/Shanghai", recent=0)
    assert late.out_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 9  # closed overnight: tomorrow morning
    fresh = paper.learn([], hours, tz="Asia/Shanghai", now=day, capacity=400, since=since)
    assert (fresh.to_low, fresh.to_out, fresh.learned_out) == (None, 400.0, False)
    assert paper.forecast(fresh, printed=100, now=day, tz="Asia/Shanghai", recent=30).low_at is None


_iv = st.tuples(st.integers(0, 1000), st.integers(1, 200)).map(lambda p: (at(p[0] / 60), at((p[0] + p[1]) / 60)))


@given(st.lists(_iv, max_size=12), st.lists(_iv, max_size=12))
def test_interval_algebra_properties(a, b):
    """GIVEN any two interval sets WHEN intersected THEN the result is within each, and never longer than either."""
    both = u.intersect(a, b)
    assert u.seconds(both) <= min(u.seconds(a), u.seconds(b)) + 1e-6
    assert u.intersect(both, a) == both == u.intersect(b, a)
    assert u.merge(u.merge(a)) == u.merge(a)


@given(st.lists(st.tuples(st.integers(0, 1440), st.booleans()), max_size=20), st.booleans())
def test_state_intervals_cover_at_most_the_window(changes, initial):
    """GIVEN any change points WHEN turned into intervals THEN they lie in the window and do not overlap."""
    ivs = u.state_intervals([(at(m / 60), v) for m, v in changes], initial, at(0), at(24))
    assert all(at(0) <= s < e <= at(24) for s, e in ivs)
    assert u.merge(ivs) == ivs
