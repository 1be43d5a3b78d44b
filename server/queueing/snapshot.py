"""A branch's queue as read for one change: waiting lines, counters and what they serve, service times.

Routing, estimates and the board need only this; reading it is what a change costs, so the hub reads it
for many branches at once (`snapshots`, `waiting_lanes`) and may keep it between batches (`cache.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.devices.models import Device
from server.queueing import estimates
from server.queueing.models import CounterState, Ticket
from server.queueing.transitions import WAITING_STATES, TicketStatus
from szconfig.branch import BranchConfig, Channel, DeviceKind, PriorityClass
from wire.messages import BoardCall

RECENT_SERVICES = 30  # service times per business that feed the estimates…
RECENT_DAYS = 7  # …taken from the past week


def devices_free(session: Session, cfgs: Sequence[BranchConfig]) -> dict[str, int]:
    """Per branch: self-service kiosks that are online and whose printer is not in error."""
    planned: dict[str, set[str]] = {}
    for cfg in cfgs:
        zones = {z.id for z in cfg.zones if z.channel is Channel.SELF_SERVICE}
        planned[cfg.id] = {d.id for d in cfg.devices if d.kind is DeviceKind.KIOSK and d.zone in zones}
    free = dict.fromkeys(planned, 0)
    wanted = [b for b, kiosks in planned.items() if kiosks]
    if not wanted:
        return free
    rows = session.execute(select(Device.branch_id, Device.device_id, Device.status).where(
        Device.branch_id.in_(wanted), Device.online.is_(True),
        Device.device_id.in_(sorted(set().union(*planned.values())))))
    for branch, device, status in rows:
        if device in planned[branch] and (status or {}).get("printer", {}).get("device", "online") == "online":
            free[branch] += 1
    return free


@dataclass
class Lane:
    """One channel's waiting line in calling order, as business codes: what routing, estimates and the
    board need, without loading ticket objects (issuing is on the hub's hot path)."""

    all: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    regular: list[str] = field(default_factory=list)

    def add(self, business: str, priority: str) -> None:
        self.all.append(business)
        (self.priority if priority == PriorityClass.PRIORITY.value else self.regular).append(business)


def waiting_lanes(session: Session, branch_ids: Sequence[str]) -> dict[str, dict[str, Lane]]:
    """branch → channel → its waiting line, in one query."""
    lanes: dict[str, dict[str, Lane]] = {b: {} for b in branch_ids}
    rows = session.execute(select(Ticket.branch_id, Ticket.channel, Ticket.business, Ticket.priority)
                           .where(Ticket.branch_id.in_(branch_ids), Ticket.status.in_(WAITING_STATES))
                           .order_by(Ticket.branch_id, Ticket.queued_at, Ticket.id))
    for branch, channel, business, priority in rows:
        lanes[branch].setdefault(channel, Lane()).add(business, priority)
    return lanes


def waiting_tickets(session: Session, branch_id: str) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.branch_id == branch_id,
                                                     Ticket.status.in_(WAITING_STATES))
                                .order_by(Ticket.queued_at, Ticket.id)))


def _service_stats(session: Session, cfgs: Sequence[BranchConfig],
                   now: datetime) -> dict[str, dict[str, estimates.ServiceStats]]:
    """branch → business → the last RECENT_SERVICES counter service times of the past RECENT_DAYS, in one
    query (bounded in time, so a branch's history does not slow it down)."""
    recent = (select(Ticket.branch_id, Ticket.business, Ticket.called_at, Ticket.finished_at,
                     func.row_number().over(partition_by=(Ticket.branch_id, Ticket.business),
                                            order_by=Ticket.finished_at.desc()).label("n"))
              .where(Ticket.branch_id.in_([c.id for c in cfgs]), Ticket.status == TicketStatus.DONE.value,
                     Ticket.finished_at >= now - timedelta(days=RECENT_DAYS),
                     Ticket.called_at.is_not(None), Ticket.counter.is_not(None))
              .subquery())
    samples: dict[tuple[str, str], list[float]] = {}
    for branch, business, called, finished in session.execute(
            select(recent.c.branch_id, recent.c.business, recent.c.called_at, recent.c.finished_at)
            .where(recent.c.n <= RECENT_SERVICES)):
        samples.setdefault((branch, business), []).append((finished - called).total_seconds() / 60)
    return {c.id: {b.code: estimates.stats_from(samples.get((c.id, b.code), []), b.service_min)
                   for b in c.business_types} for c in cfgs}


def serving(c: CounterState) -> bool:
    """A counter serves now only when it is open (closed or paused: not now)."""
    return bool(c.open)


@dataclass
class Snapshot:
    """What the estimates need, read once per change."""

    cfg: BranchConfig
    counters: list[CounterState]
    busy: dict[int, Ticket]
    stats: dict[str, estimates.ServiceStats]
    now: datetime
    shifts: bool = True  # counters follow the branch's plan of shifts and breaks (False: the estimate as if
    # every counter serving now served on, and nobody else came back; the benchmark's baseline)

    _servers: dict[str, list[estimates.Server]] = field(default_factory=dict, init=False, repr=False)

    def served(self) -> dict[Channel, frozenset[str]]:
        """Per channel: the businesses its open counters have the skill for (what routing may rely on)."""
        return served_by(self.cfg, {c.number for c in self.counters if serving(c)})

    def servers(self, channel: str) -> list[estimates.Server]:
        """The counters of `channel` serving now or back later today by the plan, then those of other
        channels, which take its tickets only once they are aging (with the wait, per business, from which
        they do). Worked out once per snapshot."""
        if not self._servers:
            self._servers.update(self._open_servers())
        return self._servers.get(channel) or self._servers["*"]

    def _open_servers(self) -> dict[str, list[estimates.Server]]:
        aging = {b.code: self.cfg.queue.aging_fraction * b.max_wait_min for b in self.cfg.business_types}
        conf_of = {k.number: k for k in self.cfg.counters}
        channel_of = {z.id: z.channel.value for z in self.cfg.zones}
        open_ = []  # (channel, as its own channel's server, as another channel's server)
        for c in self.counters:
            conf = conf_of.get(c.number)
            if conf is None:
                continue
            on = serving(c)
            if not self.shifts:  # the plan ignored: only the counters serving now, for as long as it takes
                away: tuple[tuple[float, float], ...] | None = () if on else None
            else:
                away = estimates.planned_away(self.cfg, conf, self.now, serving=on)
            if away is None:
                continue
            cur = self.busy.get(c.number)
            mine = estimates.Server(
                c.number, frozenset(conf.skills), cur.business if cur else None,
                ((self.now - cur.called_at).total_seconds() / 60) if cur and cur.called_at else 0.0, away=away)
            helping = replace(mine, aging_min={b: aging[b] for b in conf.skills if b in aging})
            open_.append((channel_of.get(conf.zone), mine, helping))
        out = {ch: [m for c, m, _h in open_ if c == ch] + [h for c, _m, h in open_ if c != ch]
               for ch in {*channel_of.values()}}
        out["*"] = [h for _c, _m, h in open_]  # a channel without a zone: everyone helps once aging
        return out


def snapshot(session: Session, cfg: BranchConfig, now: datetime) -> Snapshot:
    return snapshots(session, [cfg], now)[cfg.id]


def snapshots(session: Session, cfgs: Sequence[BranchConfig], now: datetime) -> dict[str, Snapshot]:
    """Counters, the tickets they serve and service times of many branches, in three queries."""
    ids = [c.id for c in cfgs]
    counters: dict[str, list[CounterState]] = {b: [] for b in ids}
    for row in session.scalars(select(CounterState).where(CounterState.branch_id.in_(ids))
                               .order_by(CounterState.branch_id, CounterState.number)):
        counters[row.branch_id].append(row)
    serving = [row.ticket_id for rows in counters.values() for row in rows if row.ticket_id]
    busy: dict[str, dict[int, Ticket]] = {b: {} for b in ids}
    if serving:
        for t in session.scalars(select(Ticket).where(Ticket.id.in_(serving))):
            busy[t.branch_id][t.counter] = t
    stats = _service_stats(session, cfgs, now)
    return {c.id: Snapshot(c, counters[c.id], busy[c.id], stats[c.id], now) for c in cfgs}


def counter_channel(cfg: BranchConfig, zone_id: str) -> str:
    return next(z.channel.value for z in cfg.zones if z.id == zone_id)


def served_by(cfg: BranchConfig, open_numbers: set[int]) -> dict[Channel, frozenset[str]]:
    served: dict[Channel, set[str]] = {}
    for c in cfg.counters:
        if c.number in open_numbers:
            served.setdefault(Channel(counter_channel(cfg, c.zone)), set()).update(c.skills)
    return {ch: frozenset(skills) for ch, skills in served.items()}


def _ahead(t: Ticket, waiting: Sequence[Ticket], ratio: int) -> list[Ticket]:
    """Tickets of the same channel that the calling policy will call before `t` (FIFO within a class;
    one priority call per `ratio` regular calls)."""
    same = [u for u in waiting if u.id != t.id and u.channel == t.channel and u.queued_at <= t.queued_at]
    if t.priority != PriorityClass.PRIORITY.value:
        return same
    prio = [u for u in same if u.priority == PriorityClass.PRIORITY.value]
    regular = [u for u in same if u.priority != PriorityClass.PRIORITY.value]
    return prio + regular[: ratio * (len(prio) + 1)]


def ahead_of_new(priority: str, lane: Lane, ratio: int) -> Sequence[str]:
    """Businesses ahead of a ticket that joins the end of its lane: what `_ahead` computes, in O(1) for a
    regular ticket (the lane itself, not a copy: the estimate reads only its head)."""
    if priority != PriorityClass.PRIORITY.value:
        return lane.all
    return lane.priority + lane.regular[: ratio * (len(lane.priority) + 1)]


def estimate_for(t: Ticket, waiting: Sequence[Ticket], snap: Snapshot) -> tuple[int, estimates.Estimate | None]:
    """(people ahead, P50/P90) for a waiting ticket."""
    if t.channel == Channel.SELF_SERVICE.value:
        return 0, estimates.Estimate(0.0, 0.0)
    ahead = _ahead(t, waiting, snap.cfg.queue.regular_per_priority)
    servers = snap.servers(t.channel)
    if t.target_counter is not None:
        servers = [s for s in servers if s.number == t.target_counter]
    est = estimates.estimate(t.business, [u.business for u in ahead], servers, snap.stats)
    return len(ahead), est


@dataclass
class IssueContext:
    """One read of a branch's queue, shared by the requests of a batch (taken under the branch lock)."""

    cfg: BranchConfig
    issuing: bool
    version: int
    lanes: dict[str, Lane]  # channel → its waiting line; grows as the batch issues tickets
    devices_free: int
    snap: Snapshot

    @property
    def waiting(self) -> dict[Channel, int]:
        """Waiting tickets per channel (what routing weighs), as the lines stand now."""
        return {Channel(c): len(lane.all) for c, lane in self.lanes.items()}

    @property
    def served(self) -> dict[Channel, frozenset[str]]:
        if self._served is None:
            self._served = self.snap.served()
        return self._served

    _served: dict[Channel, frozenset[str]] | None = field(default=None, init=False, repr=False)
    # the board's last calls, read once and shared by the copies kept of this queue: only a call changes
    # them, and a call bumps the version, so no kept copy outlives them
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def last_calls(self) -> list[BoardCall] | None:
        return self._memo.get("last_calls")

    @last_calls.setter
    def last_calls(self, calls: list[BoardCall]) -> None:
        self._memo["last_calls"] = calls

