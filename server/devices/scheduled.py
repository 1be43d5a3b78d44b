"""Fleet jobs on APScheduler; each is `fn(session_factory, now)` so tests drive them with a controlled clock."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.alarms.models import Alarm, AlarmStatus, AlarmType, Severity
from server.alarms.rules import ERROR_RATE_WINDOW, escalation_due
from server.alarms.service import clear_alarm
from server.branches.models import Branch
from server.db import insert_for
from server.devices import commands, paper
from server.devices import utilisation as u
from server.devices.flows import Change, evaluate
from server.devices.models import (
    CommandStatus,
    Device,
    DeviceCommand,
    OfflineCause,
    PaperRoll,
    TimelineEntry,
    UsageHour,
    UsageSession,
)
from server.devices.settings import SETTINGS, FleetSettings
from server.devices.timeline import Timeline
from server.events.models import Event
from server.notifications import texts
from server.notifications.service import notify
from server.outbox.service import enqueue
from server.workorders.models import Team, WorkOrder
from server.workorders.rules import route
from server.workorders.service import open_order, order_for_alarm


def check_presence(factory: sessionmaker[Session], now: datetime, settings: FleetSettings = SETTINGS) -> int:
    """Devices silent for longer than the timeout go offline (and their DEVICE_OFFLINE alarm opens)."""
    cutoff = now - settings.offline_timeout
    with factory() as session, session.begin():
        silent = list(session.scalars(select(Device).where(Device.online.is_(True), Device.last_seen_at < cutoff)
                                      .order_by(Device.id).with_for_update()))
        timeline = Timeline()
        changes = []
        for dev in silent:
            dev.online, dev.offline_reason = False, OfflineCause.TIMEOUT.value
            dev.presence_changed_at = now
            timeline.add(dev.branch_id, dev.device_id, now, "presence", "offline",
                         {"via": "timeout", "cause": OfflineCause.TIMEOUT.value,
                          "last_seen_at": dev.last_seen_at.isoformat()})
            changes.append(Change(dev, presence_changed=True, onset_at=dev.last_seen_at))
        evaluate(session, changes, timeline, now)
        timeline.write(session)
        return len(silent)


def escalate_alarms(factory: sessionmaker[Session], now: datetime, settings: FleetSettings = SETTINGS) -> int:
    """Unacknowledged alarms escalate and their team's rota is told (level n: on-call levels 1..n); an escalated
    offline device gets a field work order."""
    n = 0
    with factory() as session, session.begin():
        timeline = Timeline()
        zones: dict[str, str] = {}
        for alarm in session.scalars(select(Alarm).where(Alarm.status == AlarmStatus.ACTIVE_UNACK.value)
                                     .order_by(Alarm.id)):
            if not escalation_due(status=alarm.status, started_at=alarm.started_at, escalated_at=alarm.escalated_at,
                                  level=alarm.escalation_level, now=now, after=settings.escalate_after):
                continue
            alarm.escalation_level += 1
            alarm.escalated_at = now
            alarm.updated_at = now
            timeline.add(alarm.branch_id, alarm.device_id, now, "alarm", "escalated",
                         {"alarm": alarm.id, "type": alarm.type, "level": alarm.escalation_level})
            order = None
            if alarm.type == AlarmType.DEVICE_OFFLINE and alarm.work_order_id is None:
                order = order_for_alarm(session, timeline, alarm, now)
            elif alarm.work_order_id is not None:
                order = session.get(WorkOrder, alarm.work_order_id)
            found = route(AlarmType(alarm.type), alarm.action)
            team = order.team if order else (found[0].value if found else Team.FIELD.value)
            if alarm.branch_id not in zones:
                branch = session.get(Branch, alarm.branch_id)
                zones[alarm.branch_id] = branch.timezone if branch else "UTC"
            pk = session.scalar(select(Device.id).where(Device.branch_id == alarm.branch_id,
                                                         Device.device_id == alarm.device_id))
            notify(session, texts.alarm_escalated(
                alarm_id=alarm.id, branch_id=alarm.branch_id, device_id=alarm.device_id, device_pk=pk,
                type=alarm.type, severity=alarm.severity, detail=alarm.detail, level=alarm.escalation_level,
                team=team, since=alarm.started_at, tz=zones[alarm.branch_id]), now)
            n += 1
        # HIGH_ERROR_RATE clears once the window is quiet
        for alarm in session.scalars(select(Alarm).where(Alarm.type == AlarmType.HIGH_ERROR_RATE.value,
                                                         Alarm.active_key.is_not(None))):
            recent = session.scalars(select(Event.id).where(
                Event.branch_id == alarm.branch_id, Event.device_id == alarm.device_id, Event.type == "error",
                Event.ts >= now - ERROR_RATE_WINDOW).limit(1)).first()
            if recent is None:
                clear_alarm(alarm, timeline, by="device", now=now)
        timeline.write(session)
    return n


def end_maintenance(factory: sessionmaker[Session], now: datetime) -> int:
    """Maintenance windows expire by themselves; faults still present then raise their alarms."""
    with factory() as session, session.begin():
        ended = list(session.scalars(select(Device).where(Device.maintenance_until.is_not(None),
                                                          Device.maintenance_until <= now)))
        timeline = Timeline()
        for dev in ended:
            dev.maintenance_until = None
            dev.maintenance_reason = None
            timeline.add(dev.branch_id, dev.device_id, now, "service", "maintenance_ended", {})
        evaluate(session, [Change(dev, status_changed=True, presence_changed=not dev.online) for dev in ended],
                 timeline, now)
        timeline.write(session)
        return len(ended)


def expire_commands(factory: sessionmaker[Session], now: datetime) -> int:
    """Commands past their time-to-live expire; queued ones of devices that are online again without a new
    birth (back by heartbeat: a kiosk behind an edge whose link to the centre returned) are sent now."""
    with factory() as session, session.begin():
        expired = commands.expire(session, now)
        back = session.execute(select(DeviceCommand.branch_id, DeviceCommand.device_id).distinct().join(
            Device, (Device.branch_id == DeviceCommand.branch_id) & (Device.device_id == DeviceCommand.device_id))
            .where(DeviceCommand.status == CommandStatus.QUEUED.value, Device.online.is_(True))).all()
        enqueue(session, commands.release_queued(session, [(b, d) for b, d in back], now))
        return expired


def sync_planned_devices(session: Session) -> None:
    """Configured devices appear in the registry (never seen, offline) before their first birth."""
    rows = []
    for branch_id, config in session.execute(select(Branch.id, Branch.config)):
        for d in (config or {}).get("devices", []):
            rows.append({"branch_id": branch_id, "device_id": d["id"], "zone": d.get("zone"), "kind": d.get("kind"),
                         "components": [], "status": {}, "online": False, "session": 0, "seq_gaps": 0})
    if rows:
        session.connection().execute(insert_for(session, Device).on_conflict_do_nothing(), rows)


def rollup(session: Session, start: datetime, end: datetime) -> int:
    """Write the hourly usage roll-up of every device for the hours covering [start, end)."""
    hours = u.hours_between(start, end)
    if not hours:
        return 0
    lo, hi = hours[0], hours[-1] + timedelta(hours=1)
    configs = {b.id: b for b in session.scalars(select(Branch))}
    devices = list(session.scalars(select(Device).order_by(Device.id)))
    transitions: dict[tuple[str, str], list[tuple[datetime, bool]]] = defaultdict(list)
    for b, d, at, detail in session.execute(select(
            TimelineEntry.branch_id, TimelineEntry.device_id, TimelineEntry.at, TimelineEntry.detail)
            .where(TimelineEntry.kind == "service", TimelineEntry.at < hi, TimelineEntry.what.in_(
                ["available", "unavailable"])).order_by(TimelineEntry.at)):
        transitions[(b, d)].append((at, bool(detail.get("available"))))
    sessions: dict[tuple[str, str], list[u.Session]] = defaultdict(list)
    for s in session.scalars(select(UsageSession).where(UsageSession.ended_at > lo, UsageSession.started_at < hi)):
        sessions[(s.branch_id, s.device_id)].append(u.Session(s.started_at, s.ended_at, s.outcome != "ok"))
    rows = []
    for dev in devices:
        branch = configs.get(dev.branch_id)
        if branch is None:
            continue
        key = (dev.branch_id, dev.device_id)
        before = [t for t in transitions.get(key, []) if t[0] < lo]
        initial = before[-1][1] if before else False
        inside = [t for t in transitions.get(key, []) if t[0] >= lo]
        in_service = u.state_intervals(inside, initial, lo, hi)
        opening = u.opening_intervals((branch.config or {}).get("hours", []), branch.timezone, lo, hi)
        for h in hours:
            f = u.usage(start=h, end=h + timedelta(hours=1), opening=opening, in_service=in_service,
                        sessions=sessions.get(key, []))
            rows.append({"branch_id": dev.branch_id, "device_id": dev.device_id, "zone": dev.zone, "hour": h,
                         "open_s": f.open_s, "available_s": f.available_s, "busy_s": f.busy_s,
                         "sessions": f.sessions, "failed": f.failed})
    if rows:
        stmt = insert_for(session, UsageHour)
        stmt = stmt.on_conflict_do_update(
            index_elements=["branch_id", "device_id", "hour"],
            set_={c: stmt.excluded[c] for c in ("zone", "open_s", "available_s", "busy_s", "sessions", "failed")})
        session.connection().execute(stmt, rows)
    return len(rows)


def _printer(dev: Device) -> bool:
    return "printer" in (dev.components or []) or "printer" in (dev.status or {})


def learn_paper(factory: sessionmaker[Session], now: datetime, settings: FleetSettings = SETTINGS) -> int:
    """Hourly: learn every printer's receipts per roll and usage by hour (server.devices.paper)."""
    with factory() as session, session.begin():
        devices = [d for d in session.scalars(select(Device).order_by(Device.id)) if _printer(d)]
        for dev in devices:
            dev.paper_model = _learn(session, dev, now, settings).to_json()
        return len(devices)


def _learn(session: Session, dev: Device, now: datetime, settings: FleetSettings) -> paper.PaperModel:
    branch = session.get(Branch, dev.branch_id)
    rolls = [paper.Roll(low, out) for low, out in session.execute(
        select(PaperRoll.printed_at_low, PaperRoll.printed_at_out).where(
            PaperRoll.branch_id == dev.branch_id, PaperRoll.device_id == dev.device_id)
        .order_by(PaperRoll.ended_at.desc()).limit(paper.ROLLS))]
    hours = [(h, s - f) for h, s, f in session.execute(
        select(UsageHour.hour, UsageHour.sessions, UsageHour.failed).where(
            UsageHour.branch_id == dev.branch_id, UsageHour.device_id == dev.device_id,
            UsageHour.hour >= now - paper.HISTORY))]
    first = session.scalar(select(func.min(UsageSession.started_at)).where(
        UsageSession.branch_id == dev.branch_id, UsageSession.device_id == dev.device_id,
        UsageSession.started_at >= now - paper.HISTORY))
    return paper.learn(rolls, hours, tz=branch.timezone if branch else "UTC", now=now,
                       capacity=settings.paper_capacity, since=first)


def forecast_paper(session: Session, now: datetime, settings: FleetSettings = SETTINGS) -> int:
    """Forecast when each printer's roll reaches low and out; open the refill order before the sensor says low."""
    recent = dict(_recent_counts(session, now - paper.PACE_WINDOW))
    zones = dict(session.execute(select(Branch.id, Branch.timezone)).tuples().all())
    lead = timedelta(minutes=settings.refill_lead_min)
    timeline = Timeline()
    opened = 0
    for dev in session.scalars(select(Device).order_by(Device.id)):
        if not _printer(dev):
            continue
        model = paper.PaperModel.from_json(dev.paper_model)
        if model is None:
            model = _learn(session, dev, now, settings)
            dev.paper_model = model.to_json()
        tz = zones.get(dev.branch_id) or "UTC"
        f = paper.forecast(model, printed=dev.receipts_since_refill or 0, now=now, tz=tz,
                           recent=recent.get((dev.branch_id, dev.device_id), 0))
        dev.paper_low_at, dev.paper_out_at = f.low_at, f.out_at
        state = (dev.status or {}).get("printer", {}).get("paper")
        trigger = f.low_at if model.to_low is not None else f.out_at
        if state in ("low", "out", "jammed") or trigger is None or trigger - now > lead:
            continue  # the sensor has spoken (its alarm opened the order), or there is time
        when = trigger.astimezone(ZoneInfo(tz)).strftime("%H:%M")
        _, created = open_order(session, timeline, branch_id=dev.branch_id, device_id=dev.device_id,
                                team=Team.BRANCH.value, task="refill_paper", severity=Severity.WARNING.value,
                                reason=f"forecast: paper {'low' if model.to_low is not None else 'out'} by {when}",
                                now=now, due_by=f.out_at)
        opened += created
    timeline.write(session)
    return opened


def _recent_counts(session: Session, since: datetime) -> list[tuple[tuple[str, str], int]]:
    return [((b, d), int(n)) for b, d, n in session.execute(
        select(UsageSession.branch_id, UsageSession.device_id, func.count())
        .where(UsageSession.ended_at >= since, UsageSession.outcome == "ok")
        .group_by(UsageSession.branch_id, UsageSession.device_id))]


def rollup_recent(factory: sessionmaker[Session], now: datetime) -> int:
    """Every few minutes: registry from config, this hour's and the last hour's roll-up, paper forecast."""
    with factory() as session, session.begin():
        sync_planned_devices(session)
        n = rollup(session, now - timedelta(hours=1), now)
        forecast_paper(session, now)
        return n
