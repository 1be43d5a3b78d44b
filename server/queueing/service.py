"""Queue service: issue, call, recall, finish, transfer, park, resume, no-show, counters, board, KPIs.

Keyword-only functions taking a session and `now` (so the benchmark and tests drive time). Every change
starts with `lock_branch()`: an `UPDATE queue_state SET version = version + 1` that serialises a branch's
queue changes (a row lock on PostgreSQL, the write lock on SQLite) and tells consoles in other
processes that something changed. Changes return outbox rows (the board, calls) for devices; callers
enqueue them in the same transaction.
"""

from __future__ import annotations

import math
import secrets
import statistics
from collections import Counter as Tally
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, event, func, select, update
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.bulk import Bulk
from server.db import insert_for
from server.devices.models import Device
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.outbox.service import outbox_row
from server.queueing import estimates, policy
from server.queueing.models import (
    ACTIVE_STATES,
    WAITING_STATES,
    CounterState,
    NumberCounter,
    QueueState,
    Ticket,
    TicketStatus,
    TicketStep,
)
from server.queueing.numbering import format_number, service_day
from server.queueing.routing import Decision, Load, RouteRequest, route
from szconfig.branch import BranchConfig, Channel, DeviceKind, PriorityClass, Tier

RECENT_SERVICES = 30  # service times per business that feed the estimates…
RECENT_DAYS = 7  # …taken from the past week
SYSTEM = "system"


# --- configuration and locking -----------------------------------------------------------------

_CONFIGS: dict[str, tuple[Any, BranchConfig]] = {}


def branch_config(session: Session, branch_id: str) -> BranchConfig:
    cfg = branch_configs(session, [branch_id]).get(branch_id)
    if cfg is None:
        raise NotFound("not_found", "branch not found")
    return cfg


def branch_configs(session: Session, branch_ids: Sequence[str]) -> dict[str, BranchConfig]:
    """The branches' configurations as mirrored in the database; a config's JSON is read and parsed only
    when its timestamp moved (on the hub's path only the timestamps are read)."""
    stamps = dict(session.execute(select(Branch.id, Branch.updated_at).where(Branch.id.in_(branch_ids))).all())
    stale = [b for b, at in stamps.items() if b not in _CONFIGS or _CONFIGS[b][0] != at]
    if stale:
        for b, config in session.execute(select(Branch.id, Branch.config).where(Branch.id.in_(stale))):
            _CONFIGS[b] = (stamps[b], BranchConfig.model_validate(config))
    return {b: _CONFIGS[b][1] for b in stamps}


def lock_branch(session: Session, branch_id: str, now: datetime) -> QueueState:
    """Take the branch's queue lock (bump its version); creates the state and counter rows on first use."""
    bumped = session.execute(update(QueueState).where(QueueState.branch_id == branch_id)
                             .values(version=QueueState.version + 1, updated_at=now)
                             .returning(QueueState.issuing, QueueState.version)).first()
    if bumped is None:
        _create_states(session, {branch_id: branch_config(session, branch_id)}, now)
        return lock_branch(session, branch_id, now)
    state = session.get(QueueState, branch_id)
    assert state is not None
    return state


def lock_branches(session: Session, branch_ids: Sequence[str], now: datetime) -> dict[str, tuple[bool, int]]:
    """`lock_branch` for many branches in one statement: {branch: (issuing, version)}.

    On PostgreSQL the rows are locked in branch order first, so two workers never deadlock."""
    ids = sorted(set(branch_ids))
    t = QueueState.__table__.c
    session.flush()  # Core statements below: pending ORM changes first
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(t.branch_id).where(t.branch_id.in_(ids)).order_by(t.branch_id).with_for_update())
    rows = session.execute(update(QueueState.__table__).where(t.branch_id.in_(ids))
                           .values(version=t.version + 1, updated_at=now)
                           .returning(t.branch_id, t.issuing, t.version))
    locked = {b: (bool(issuing), version) for b, issuing, version in rows}
    missing = [b for b in ids if b not in locked]
    if missing and _create_states(session, branch_configs(session, missing), now):
        locked.update(lock_branches(session, missing, now))
    return locked


def _create_states(session: Session, cfgs: dict[str, BranchConfig], now: datetime) -> bool:
    """A branch's queue state and counter rows, on its first use (another worker may do the same)."""
    if not cfgs:
        return False
    stmt = insert_for(session, QueueState).on_conflict_do_nothing(index_elements=["branch_id"])
    session.connection().execute(stmt, [{"branch_id": b, "issuing": True, "version": 0, "updated_at": now}
                                        for b in sorted(cfgs)])
    counters = [{"branch_id": b, "number": c.number, "open": True, "regular_streak": 0, "updated_at": now}
                for b in sorted(cfgs) for c in cfgs[b].counters]
    if counters:
        stmt = insert_for(session, CounterState).on_conflict_do_nothing(index_elements=["branch_id", "number"])
        session.connection().execute(stmt, counters)
    return True


def _take_numbers(session: Session, want: dict[tuple[str, str], tuple[str, int]]) -> dict[tuple[str, str], int]:
    """Reserve numbers: for each (branch, prefix) → (service day, k), the first of its next k numbers.

    One `UPDATE … FROM (VALUES …) RETURNING` for all pairs, atomic per counter row (a row lock on
    PostgreSQL) and restarting at 1 when the service day changed: two workers never get the same number.
    Counter rows are created on a prefix's first use."""
    first: dict[tuple[str, str], int] = {}
    todo = dict(want)
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    for attempt in range(2):
        if not todo:
            break
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(todo))
        params = tuple(x for (b, p), (day, k) in sorted(todo.items()) for x in (b, p, day, k))
        rows = conn.exec_driver_sql(
            "UPDATE queue_numbers SET last = CASE WHEN queue_numbers.service_day = v.column3 "
            "THEN queue_numbers.last + v.column4 ELSE v.column4 END, service_day = v.column3 "
            f"FROM (VALUES {values}) AS v "
            "WHERE queue_numbers.branch_id = v.column1 AND queue_numbers.prefix = v.column2 "
            "RETURNING queue_numbers.branch_id, queue_numbers.prefix, queue_numbers.last", params)
        for b, p, last in rows:
            first[(b, p)] = int(last) - todo.pop((b, p))[1] + 1
        if todo and attempt == 0:
            ins = insert_for(session, NumberCounter).on_conflict_do_nothing(index_elements=["branch_id", "prefix"])
            conn.execute(ins, [{"branch_id": b, "prefix": p, "service_day": day, "last": 0}
                               for (b, p), (day, _k) in sorted(todo.items())])
    assert not todo, f"no number counter for {sorted(todo)}"
    return first


def _step(session: Session, t: Ticket, action: str, now: datetime, actor: str, **detail: Any) -> None:
    """Append to the ticket's journey (a Core insert: steps are only ever read by queries)."""
    session.connection().execute(TicketStep.__table__.insert(), [_step_row(t, action, now, actor, **detail)])


def _step_row(t: Ticket, action: str, now: datetime, actor: str, **detail: Any) -> dict[str, Any]:
    return {"ticket_id": t.id, "branch_id": t.branch_id, "at": now, "action": action, "channel": t.channel,
            "business": t.business, "counter": t.counter, "actor": actor[:64],
            "detail": {k: v for k, v in detail.items() if v is not None}}


# --- load and estimates ------------------------------------------------------------------------

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


def _lanes(session: Session, branch_ids: Sequence[str]) -> dict[str, dict[str, Lane]]:
    """branch → channel → its waiting line, in one query."""
    lanes: dict[str, dict[str, Lane]] = {b: {} for b in branch_ids}
    rows = session.execute(select(Ticket.branch_id, Ticket.channel, Ticket.business, Ticket.priority)
                           .where(Ticket.branch_id.in_(branch_ids), Ticket.status.in_(WAITING_STATES))
                           .order_by(Ticket.branch_id, Ticket.queued_at, Ticket.id))
    for branch, channel, business, priority in rows:
        lanes[branch].setdefault(channel, Lane()).add(business, priority)
    return lanes


def _waiting(session: Session, branch_id: str) -> list[Ticket]:
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


@dataclass
class Snapshot:
    """What the estimates need, read once per change."""

    cfg: BranchConfig
    counters: list[CounterState]
    busy: dict[int, Ticket]
    stats: dict[str, estimates.ServiceStats]
    now: datetime

    _servers: dict[str, list[estimates.Server]] = field(default_factory=dict, init=False, repr=False)

    def served(self) -> dict[Channel, frozenset[str]]:
        """Per channel: the businesses its open counters have the skill for (what routing may rely on)."""
        return _served_by(self.cfg, {c.number for c in self.counters if c.open})

    def servers(self, channel: str) -> list[estimates.Server]:
        """The open counters of `channel`, then those of other channels, which take its tickets only once
        they are aging (with the wait, per business, from which they do). Worked out once per snapshot."""
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
            if conf is None or not c.open:
                continue
            cur = self.busy.get(c.number)
            mine = estimates.Server(
                c.number, frozenset(conf.skills), cur.business if cur else None,
                ((self.now - cur.called_at).total_seconds() / 60) if cur and cur.called_at else 0.0)
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


def _counter_channel(cfg: BranchConfig, zone_id: str) -> str:
    return next(z.channel.value for z in cfg.zones if z.id == zone_id)


def _ahead(t: Ticket, waiting: Sequence[Ticket], ratio: int) -> list[Ticket]:
    """Tickets of the same channel that the calling policy will call before `t` (FIFO within a class;
    one priority call per `ratio` regular calls)."""
    same = [u for u in waiting if u.id != t.id and u.channel == t.channel and u.queued_at <= t.queued_at]
    if t.priority != PriorityClass.PRIORITY.value:
        return same
    prio = [u for u in same if u.priority == PriorityClass.PRIORITY.value]
    regular = [u for u in same if u.priority != PriorityClass.PRIORITY.value]
    return prio + regular[: ratio * (len(prio) + 1)]


def _ahead_of_new(priority: str, lane: Lane, ratio: int) -> Sequence[str]:
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


# --- issuing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketRequest:
    """One request for a ticket: from a kiosk (over the hub) or from staff at the lobby desk."""

    branch_id: str
    business: str
    source: str = "staff"
    request_id: str | None = None
    device_id: str | None = None
    tier: str = Tier.REGULAR.value
    elderly: bool = False
    customer_ref: str | None = None
    visit_id: str | None = None
    appointment_code: str | None = None
    appointment_at: datetime | None = None
    provisional_number: str | None = None
    issued_at: datetime | None = None
    actor: str = SYSTEM


@dataclass
class Issued:
    ticket: Ticket
    created: bool
    people_ahead: int
    estimate: estimates.Estimate | None
    outbox: list[dict[str, Any]] = field(default_factory=list)
    reconciled: bool = False  # a retry brought the provisional number the customer holds


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
    def last_calls(self) -> list[dict[str, Any]] | None:
        return self._memo.get("last_calls")

    @last_calls.setter
    def last_calls(self, calls: list[dict[str, Any]]) -> None:
        self._memo["last_calls"] = calls


def issue(session: Session, *, branch_id: str, business: str, now: datetime, board: bool = True,
          **fields: Any) -> Issued:
    """Issue one ticket (or return the one its request_id already got); `fields` are `TicketRequest`'s.
    Raises DomainError."""
    results, contexts = issue_many(session, [TicketRequest(branch_id, business, **fields)], now)
    res = results[0]
    if isinstance(res, DomainError):
        raise res
    res.ticket = session.get(Ticket, res.ticket.id) or res.ticket  # the session's own: later changes show
    if board and (res.created or res.reconciled):
        res.outbox = [board_row(session, contexts[branch_id].cfg, now, contexts[branch_id])]
    return res


def issue_contexts(session: Session, branch_ids: Sequence[str], now: datetime) -> dict[str, IssueContext]:
    """Lock the branches and read their queues: a handful of statements however many branches. A queue
    this process kept from its last change, with nothing changed since, is not read again."""
    locked = lock_branches(session, branch_ids, now)
    cfgs = branch_configs(session, sorted(locked))
    if not cfgs:
        return {}
    free = devices_free(session, list(cfgs.values()))
    contexts = {}
    for b, cfg in cfgs.items():
        issuing, version = locked[b]
        ctx = _kept(session, b, cfg, version - 1, issuing, now)
        if ctx is not None:
            ctx.version, ctx.devices_free = version, free[b]
            contexts[b] = ctx
    fresh = sorted(set(cfgs) - set(contexts))
    if fresh:
        lanes, snaps = _lanes(session, fresh), snapshots(session, [cfgs[b] for b in fresh], now)
        for b in fresh:
            contexts[b] = IssueContext(cfgs[b], locked[b][0], locked[b][1], lanes[b], free[b], snaps[b])
    _keep(session, contexts)
    return contexts


# --- queues kept between changes ---------------------------------------------------------------
# Every change of a branch's queue bumps its version under the branch lock, so the queue as committed
# at version v is known exactly to the process that made the change. The hub keeps it and, when the
# next lock finds version v + 1 (nobody else changed the branch meanwhile), reuses it instead of
# reading the lines, counters and service times again. Kept only once the transaction commits.

KEPT_BRANCHES = 5_000  # per process, least recently changed forgotten first
_KEPT: OrderedDict[tuple[str, str], IssueContext] = OrderedDict()  # (database, branch) → its queue
_PENDING = "queueing.kept"


def _kept(session: Session, branch_id: str, cfg: BranchConfig, version: int, issuing: bool,
          now: datetime) -> IssueContext | None:
    """A copy of the kept queue of the branch if it is the one committed at `version`."""
    ctx = _KEPT.get((str(session.get_bind().url), branch_id))
    if ctx is None or ctx.version != version or ctx.cfg is not cfg or ctx.issuing != issuing:
        return None
    lanes = {ch: Lane(list(lane.all), list(lane.priority), list(lane.regular)) for ch, lane in ctx.lanes.items()}
    snap = Snapshot(cfg, ctx.snap.counters, ctx.snap.busy, ctx.snap.stats, now)
    if not snap.busy:  # idle counters: what they serve does not change with the clock
        snap._servers = ctx.snap._servers
    kept = IssueContext(cfg, issuing, version, lanes, ctx.devices_free, snap)
    kept._served = ctx._served  # the same counters, open or closed as they were
    kept._memo = ctx._memo
    return kept


def _keep(session: Session, contexts: dict[str, IssueContext]) -> None:
    db = str(session.get_bind().url)
    session.info.setdefault(_PENDING, {}).update({(db, b): ctx for b, ctx in contexts.items()})


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    for key, ctx in session.info.pop(_PENDING, {}).items():
        _KEPT[key] = ctx
        _KEPT.move_to_end(key)
    while len(_KEPT) > KEPT_BRANCHES:
        _KEPT.popitem(last=False)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def issue_many(session: Session, requests: Sequence[TicketRequest],
               now: datetime) -> tuple[list[Issued | DomainError], dict[str, IssueContext]]:
    """Issue tickets for a batch of requests, in request order, set-based (the hub's path).

    Under the locks of the batch's branches: one read of their queues, one number-range update per
    branch and prefix, one multi-row insert of the tickets and one of their journeys' first steps. A
    request whose request_id already has a ticket (a retry, in this batch or an earlier one) gets that
    ticket, never a second. Returns each request's outcome and the contexts (for the boards)."""
    contexts = issue_contexts(session, sorted({r.branch_id for r in requests}), now)
    known = _tickets_by_request(session, [(r.branch_id, r.request_id) for r in requests if r.request_id])
    results: list[Issued | DomainError | None] = [None] * len(requests)
    rows: list[tuple[int, dict[str, Any], Decision]] = []
    first: dict[tuple[str, str], int] = {}
    repeats: list[int] = []
    for i, r in enumerate(requests):
        key = (r.branch_id, r.request_id or "")
        if r.request_id and key in known:
            results[i] = _again(session, known[key], now, r.provisional_number, r.actor, contexts[r.branch_id])
        elif r.request_id and key in first:
            repeats.append(i)
        elif r.branch_id not in contexts:
            results[i] = NotFound("not_found", "branch not found")
        else:
            try:
                row, decision, results[i] = _plan(contexts[r.branch_id], r, now)
            except DomainError as err:
                results[i] = err
                continue
            rows.append((i, row, decision))
            if r.request_id:
                first[key] = i
    _number(session, [row for _i, row, _d in rows])
    if rows:
        db = Bulk(session)
        tickets = [db.values(_TICKET_COLUMNS, row) for _i, row, _d in rows]
        ids = dict(db.insert("queue_tickets", _TICKET_COLUMNS, tickets, "RETURNING token, id"))
        steps = []
        for i, row, decision in rows:
            ticket = Ticket(id=ids[row["token"]], **row)
            results[i].ticket = ticket  # type: ignore[union-attr]
            steps.append(_step_row(ticket, "issued", now, requests[i].actor, rule=decision.rule,
                                   reason=decision.reason_en, source=requests[i].source,
                                   provisional=requests[i].provisional_number))
        db.insert("queue_ticket_steps", _STEP_COLUMNS, [db.values(_STEP_COLUMNS, step) for step in steps])
    for i in repeats:
        r = requests[i]
        done = results[first[(r.branch_id, r.request_id or "")]]
        assert isinstance(done, Issued)
        if r.provisional_number and done.ticket.provisional_number is None:
            t = session.get(Ticket, done.ticket.id)
            assert t is not None
            results[i] = _again(session, t, now, r.provisional_number, r.actor, contexts[r.branch_id])
        else:
            results[i] = Issued(done.ticket, False, done.people_ahead, done.estimate)
    return results, contexts  # type: ignore[return-value]


# The hub issues tickets in batches: their rows and first steps go straight to the driver (`server.bulk`).
_TICKET_COLUMNS = (
    ("branch_id", "text"), ("service_day", "text"), ("number", "text"), ("display", "text"),
    ("provisional_number", "text"), ("token", "text"), ("request_id", "text"), ("device_id", "text"),
    ("source", "text"), ("business", "text"), ("channel", "text"), ("priority", "text"), ("reasons", "jsonb"),
    ("tier", "text"), ("elderly", "boolean"), ("customer_ref", "text"), ("visit_id", "text"),
    ("appointment_code", "text"), ("appointment_at", "timestamp"), ("status", "text"), ("issued_at", "timestamp"),
    ("queued_at", "timestamp"), ("called_at", "timestamp"), ("first_called_at", "timestamp"), ("calls", "integer"),
    ("est_p50_min", "float8"), ("est_p90_min", "float8"))
_STEP_COLUMNS = (("ticket_id", "integer"), ("branch_id", "text"), ("at", "timestamp"), ("action", "text"),
                 ("channel", "text"), ("business", "text"), ("counter", "integer"), ("actor", "text"),
                 ("detail", "jsonb"))


def _plan(ctx: IssueContext, r: TicketRequest, now: datetime) -> tuple[dict[str, Any], Decision, Issued]:
    """Route the request and estimate its wait against the branch's lines; the ticket's row, numberless."""
    cfg = ctx.cfg
    btype = cfg.business(r.business)
    if btype is None:
        raise Invalid("unknown_business", f"business {r.business!r} is not offered in {cfg.id}; "
                         f"one of {[b.code for b in cfg.business_types]}")
    if not ctx.issuing and r.provisional_number is None:
        raise Conflict("issuing_stopped", "ticket issuing is stopped for today")
    appointment = r.appointment_code is not None or r.appointment_at is not None
    decision = route(RouteRequest(r.business, Tier(r.tier), r.elderly, appointment), btype, cfg.queue.rules,
                     Load(waiting=ctx.waiting, devices_free=ctx.devices_free, served=ctx.served))
    channel, priority = decision.channel.value, decision.priority.value
    if decision.channel is Channel.SELF_SERVICE:
        ahead, est = 0, estimates.Estimate(0.0, 0.0)
    else:
        lane = ctx.lanes.setdefault(channel, Lane())
        before = _ahead_of_new(priority, lane, cfg.queue.regular_per_priority)
        ahead, est = len(before), estimates.estimate(r.business, before, ctx.snap.servers(channel), ctx.snap.stats)
        lane.add(r.business, priority)
    when = min(r.issued_at or now, now)
    self_service = decision.channel is Channel.SELF_SERVICE
    row = {"branch_id": cfg.id, "service_day": service_day(now, cfg.timezone, cfg.hours).isoformat(),
           "number": None, "display": r.provisional_number, "provisional_number": r.provisional_number,
           "token": secrets.token_urlsafe(18)[:24], "request_id": r.request_id, "device_id": r.device_id,
           "source": r.source, "business": r.business, "channel": channel, "priority": priority,
           "reasons": [_reason(decision)], "tier": r.tier, "elderly": r.elderly, "customer_ref": r.customer_ref,
           "visit_id": r.visit_id, "appointment_code": r.appointment_code, "appointment_at": r.appointment_at,
           "status": TicketStatus.SERVING.value if self_service else TicketStatus.WAITING.value,
           "issued_at": when, "queued_at": when, "called_at": when if self_service else None,
           "first_called_at": when if self_service else None, "calls": 0,
           "est_p50_min": est.p50_min if est else None, "est_p90_min": est.p90_min if est else None,
           "prefix": btype.prefix}
    return row, decision, Issued(None, True, ahead, est)  # type: ignore[arg-type]  # ticket: once inserted


def _number(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give the rows without a provisional number the next numbers of their prefix, in order."""
    want: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        prefix = row.pop("prefix")
        if row["provisional_number"] is None:
            want.setdefault((row["branch_id"], prefix, row["service_day"]), []).append(row)
    first = _take_numbers(session, {(b, p): (day, len(group)) for (b, p, day), group in want.items()})
    for (branch, prefix, _day), group in want.items():
        for k, row in enumerate(group):
            row["number"] = row["display"] = format_number(prefix, first[(branch, prefix)] + k)


def _tickets_by_request(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Ticket]:
    """The tickets these (branch, request_id) pairs already got (an index lookup per pair)."""
    if not keys:
        return {}
    wanted = set(keys)
    found = session.scalars(select(Ticket).where(Ticket.branch_id.in_(sorted({b for b, _ in keys})),
                                                 Ticket.request_id.in_(sorted({r for _, r in keys}))))
    return {(t.branch_id, t.request_id): t for t in found if (t.branch_id, t.request_id) in wanted}


def _again(session: Session, t: Ticket, now: datetime, provisional_number: str | None, actor: str,
           ctx: IssueContext) -> Issued:
    """A retried request: the same ticket. A provisional number the kiosk printed meanwhile becomes the
    number the customer is called by (they hold that paper)."""
    reconciled = False
    if provisional_number and t.provisional_number is None:
        t.provisional_number = provisional_number
        t.display = provisional_number
        _step(session, t, "reconciled", now, actor, number=t.number, provisional=provisional_number)
        reconciled = True
    ahead, est = 0, None
    if t.status in WAITING_STATES:
        ahead, est = estimate_for(t, _waiting(session, t.branch_id), ctx.snap)
    return Issued(t, False, ahead, est, reconciled=reconciled)


def _reason(d: Decision) -> dict[str, str]:
    return {"rule": d.rule, "zh": d.reason_zh, "en": d.reason_en}


# --- calling -----------------------------------------------------------------------------------

@dataclass
class CallResult:
    ticket: Ticket | None
    outbox: list[dict[str, Any]]
    finished: Ticket | None = None


def _counter(session: Session, cfg: BranchConfig, number: int) -> tuple[CounterState, Any]:
    conf = next((c for c in cfg.counters if c.number == number), None)
    row = session.get(CounterState, (cfg.id, number))
    if conf is None or row is None:
        raise NotFound("not_found", "counter not found")
    return row, conf


def _finish_current(session: Session, row: CounterState, now: datetime, actor: str) -> Ticket | None:
    if row.ticket_id is None:
        return None
    t = session.get(Ticket, row.ticket_id)
    row.ticket_id = None
    if t is None or t.status not in (TicketStatus.CALLED.value, TicketStatus.SERVING.value):
        return None
    t.status, t.finished_at = TicketStatus.DONE.value, now
    _step(session, t, "finished", now, actor)
    return t


def call_next(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM,
              staff_name: str | None = None, board: bool = True) -> CallResult:
    """Finish the counter's current ticket and call the next one the policy picks (None: nobody)."""
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, conf = _counter(session, cfg, counter)
    if not row.open:
        raise Conflict("counter_closed", f"counter {counter} is closed; open it first")
    finished = _finish_current(session, row, now, actor)
    if staff_name:
        row.staff_name = staff_name
    waiting = [t for t in _waiting(session, branch_id) if t.target_counter in (None, counter)]
    tz = ZoneInfo(cfg.timezone)
    cands = [policy.Candidate(t.id, t.business, Channel(t.channel), PriorityClass(t.priority), t.queued_at,
                              t.issued_at, float(_max_wait(cfg, t.business)),
                              t.appointment_at.astimezone(tz) if t.appointment_at else None) for t in waiting]
    view = policy.CounterView(counter, Channel(_counter_channel(cfg, conf.zone)), frozenset(conf.skills))
    settings = policy.PolicySettings(cfg.queue.regular_per_priority, cfg.queue.appointment_window_min,
                                     cfg.queue.aging_fraction)
    choice = policy.choose(cands, view, now, regular_streak=row.regular_streak, settings=settings,
                           served=_served(session, cfg))
    out: list[dict[str, Any]] = []
    ticket = None
    if choice is not None:
        ticket = next(t for t in waiting if t.id == choice.ticket_id)
        ticket.status, ticket.counter, ticket.called_at = TicketStatus.CALLED.value, counter, now
        ticket.first_called_at = ticket.first_called_at or now
        ticket.calls += 1
        ticket.target_counter = None
        ticket.call_reason = {"rule": choice.rule, "zh": choice.reason_zh, "en": choice.reason_en}
        row.ticket_id, row.regular_streak = ticket.id, choice.regular_streak
        _step(session, ticket, "called", now, actor, rule=choice.rule, reason=choice.reason_en)
        out.append(call_row(cfg, ticket, now))
    row.updated_at = now
    if board and (ticket or finished):
        out.append(board_row(session, cfg, now))
    return CallResult(ticket, out, finished)


def _served(session: Session, cfg: BranchConfig) -> dict[Channel, frozenset[str]]:
    """Per channel: the businesses its open counters have the skill for."""
    return _served_by(cfg, set(session.scalars(select(CounterState.number).where(
        CounterState.branch_id == cfg.id, CounterState.open.is_(True)))))


def _served_by(cfg: BranchConfig, open_numbers: set[int]) -> dict[Channel, frozenset[str]]:
    served: dict[Channel, set[str]] = {}
    for c in cfg.counters:
        if c.number in open_numbers:
            served.setdefault(Channel(_counter_channel(cfg, c.zone)), set()).update(c.skills)
    return {ch: frozenset(skills) for ch, skills in served.items()}


def _max_wait(cfg: BranchConfig, business: str) -> int:
    b = cfg.business(business)
    return b.max_wait_min if b else 30


def recall(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM) -> CallResult:
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    t = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    if t is None or t.status != TicketStatus.CALLED.value:
        raise Conflict("nothing_called", f"counter {counter} has no called ticket to recall")
    t.calls += 1
    _step(session, t, "recalled", now, actor)
    return CallResult(t, [call_row(cfg, t, now, recall=True), board_row(session, cfg, now)])


def finish(session: Session, *, branch_id: str, counter: int, now: datetime, actor: str = SYSTEM) -> CallResult:
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    t = _finish_current(session, row, now, actor)
    if t is None:
        raise Conflict("nothing_called", f"counter {counter} serves no ticket")
    row.updated_at = now
    return CallResult(None, [board_row(session, cfg, now)], t)


def _ticket(session: Session, ticket_id: int) -> Ticket:
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise NotFound("not_found", "ticket not found")
    return t


def _release(session: Session, t: Ticket) -> None:
    if t.counter is not None:
        row = session.get(CounterState, (t.branch_id, t.counter))
        if row is not None and row.ticket_id == t.id:
            row.ticket_id = None


def _front(session: Session, branch_id: str, now: datetime) -> datetime:
    first = session.scalar(select(func.min(Ticket.queued_at)).where(Ticket.branch_id == branch_id,
                                                                   Ticket.status.in_(WAITING_STATES)))
    return min(first - timedelta(seconds=1), now) if first else now


def transfer(session: Session, *, ticket_id: int, now: datetime, business: str | None = None,
             counter: int | None = None, front: bool = False, actor: str = SYSTEM) -> Ticket:
    """Send a ticket on to another business (its channel) or one counter, at the front or the back of the
    line; the customer keeps the ticket (one journey, no second queuing)."""
    t = _ticket(session, ticket_id)
    cfg = branch_config(session, t.branch_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in ACTIVE_STATES:
        raise Conflict("not_active", f"ticket is {t.status}; only active tickets can be transferred")
    if business is None and counter is None:
        raise Invalid("nowhere", "give a business or a counter to transfer to")
    if business is not None:
        btype = cfg.business(business)
        if btype is None:
            raise Invalid("unknown_business", f"business {business!r} is not offered here")
        t.business = business
        t.channel = (Channel.COUNTER if btype.channel is Channel.SELF_SERVICE else btype.channel).value
    if counter is not None:
        conf = next((c for c in cfg.counters if c.number == counter), None)
        if conf is None or t.business not in conf.skills:
            raise Invalid("counter_cannot_serve", f"counter {counter} does not serve {t.business}")
        t.target_counter = counter
        t.channel = _counter_channel(cfg, conf.zone)
    _release(session, t)
    t.status, t.queued_at = TicketStatus.TRANSFERRED.value, _front(session, t.branch_id, now) if front else now
    t.counter, t.called_at = None, None
    _step(session, t, "transferred", now, actor, to_business=business, to_counter=counter, front=front)
    session.flush()
    return t


def park(session: Session, *, ticket_id: int, now: datetime, actor: str = SYSTEM) -> Ticket:
    """The called customer steps aside (a missing document); the counter is free for the next."""
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in (TicketStatus.CALLED.value, TicketStatus.SERVING.value, *WAITING_STATES):
        raise Conflict("not_parkable", f"ticket is {t.status}")
    _release(session, t)
    t.status, t.parked_at = TicketStatus.PARKED.value, now
    _step(session, t, "parked", now, actor)
    return t


def resume(session: Session, *, ticket_id: int, now: datetime, actor: str = SYSTEM) -> Ticket:
    """A parked ticket returns to the front of its line."""
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status != TicketStatus.PARKED.value:
        raise Conflict("not_parked", f"ticket is {t.status}, not parked")
    t.status, t.queued_at, t.counter = TicketStatus.WAITING.value, _front(session, t.branch_id, now), None
    _step(session, t, "resumed", now, actor)
    return t


def no_show(session: Session, *, ticket_id: int, now: datetime, actor: str = SYSTEM) -> Ticket:
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in (TicketStatus.CALLED.value, TicketStatus.PARKED.value, *WAITING_STATES):
        raise Conflict("not_callable", f"ticket is {t.status}")
    _release(session, t)
    t.status, t.finished_at = TicketStatus.NO_SHOW.value, now
    _step(session, t, "no_show", now, actor)
    return t


def finish_ticket(session: Session, *, ticket_id: int, now: datetime, actor: str = SYSTEM) -> Ticket:
    """Mark a ticket served wherever it is (a self-service ticket done at the device)."""
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in ACTIVE_STATES:
        raise Conflict("not_active", f"ticket is {t.status}")
    _release(session, t)
    t.status, t.finished_at = TicketStatus.DONE.value, now
    t.first_called_at = t.first_called_at or now
    t.called_at = t.called_at or now
    _step(session, t, "finished", now, actor)
    return t


def reprioritise(session: Session, *, ticket_id: int, now: datetime, priority: str, reason: str,
                 actor: str = SYSTEM) -> Ticket:
    t = _ticket(session, ticket_id)
    lock_branch(session, t.branch_id, now)
    if t.status not in WAITING_STATES:
        raise Conflict("not_waiting", f"ticket is {t.status}; only waiting tickets can be reprioritised")
    t.priority = PriorityClass(priority).value
    t.reasons = [*t.reasons, {"rule": "staff", "zh": f"员工调整：{reason}", "en": f"by staff: {reason}"}]
    _step(session, t, "reprioritised", now, actor, priority=priority, reason=reason)
    return t


def set_counter(session: Session, *, branch_id: str, counter: int, open: bool, now: datetime,
                staff_id: int | None = None, staff_name: str | None = None, actor: str = SYSTEM) -> CounterState:
    cfg = branch_config(session, branch_id)
    lock_branch(session, branch_id, now)
    row, _conf = _counter(session, cfg, counter)
    if not open and row.ticket_id is not None:
        raise Conflict("counter_busy", f"counter {counter} still serves a ticket; finish it first")
    row.open, row.updated_at = open, now
    if open:
        row.staff_id, row.staff_name = staff_id, staff_name
    else:
        row.staff_id, row.staff_name = None, None
    return row


def set_issuing(session: Session, *, branch_id: str, issuing: bool, now: datetime) -> QueueState:
    state = lock_branch(session, branch_id, now)
    state.issuing = issuing
    return state


def close_stale_self_service(session: Session, *, branch_id: str, now: datetime) -> int:
    """Self-service tickets still open after `self_service_min` are closed as done (the customer left the
    device); returns how many."""
    cfg = branch_config(session, branch_id)
    limit = now - timedelta(minutes=cfg.queue.self_service_min)
    stale = list(session.scalars(select(Ticket).where(
        Ticket.branch_id == branch_id, Ticket.channel == Channel.SELF_SERVICE.value,
        Ticket.status == TicketStatus.SERVING.value, Ticket.issued_at < limit)))
    if stale:
        lock_branch(session, branch_id, now)
    for t in stale:
        t.status, t.finished_at = TicketStatus.DONE.value, now
        _step(session, t, "finished", now, SYSTEM, why="self_service_timeout")
    return len(stale)


# --- views: waiting list, counters, board --------------------------------------------------------

def _local(cfg: BranchConfig, dt: datetime | None) -> str | None:
    return dt.astimezone(ZoneInfo(cfg.timezone)).strftime("%H:%M") if dt else None


def waiting_list(session: Session, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every waiting or parked ticket with its reasons, place, P50/P90 and a near-target flag."""
    cfg = branch_config(session, branch_id)
    snap = snapshot(session, cfg, now)
    waiting = _waiting(session, branch_id)
    parked = list(session.scalars(select(Ticket).where(Ticket.branch_id == branch_id,
                                                       Ticket.status == TicketStatus.PARKED.value)))
    out = []
    for t in [*waiting, *parked]:
        b = cfg.business(t.business)
        waited = (now - t.issued_at).total_seconds() / 60
        ahead, est = estimate_for(t, waiting, snap) if t in waiting else (0, None)
        target = b.target_wait_min if b else 15
        expected_total = waited + (est.p50_min if est else 0)
        out.append({
            "id": t.id, "ticket": t.display, "number": t.number, "business": t.business,
            "business_name": {"zh": b.name.zh, "en": b.name.en} if b else {"zh": t.business, "en": t.business},
            "channel": t.channel, "priority": t.priority, "status": t.status, "reasons": t.reasons,
            "issued": _local(cfg, t.issued_at), "waited_min": round(waited, 1), "people_ahead": ahead,
            "wait_p50_min": est.p50_min if est else None, "wait_p90_min": est.p90_min if est else None,
            "target_wait_min": target, "max_wait_min": b.max_wait_min if b else 30,
            "near_target": waited >= cfg.queue.alert_fraction * target or expected_total > target,
            "over_target": waited > target, "target_counter": t.target_counter,
            "provisional": t.provisional_number is not None,
        })
    return out


def counters_view(session: Session, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    cfg = branch_config(session, branch_id)
    snap = snapshot(session, cfg, now)
    out = []
    for row in snap.counters:
        conf = next((c for c in cfg.counters if c.number == row.number), None)
        if conf is None:
            continue
        cur = snap.busy.get(row.number)
        out.append({"number": row.number, "zone": conf.zone, "channel": _counter_channel(cfg, conf.zone),
                    "skills": conf.skills, "open": row.open, "staff": row.staff_name,
                    "ticket": ({"id": cur.id, "ticket": cur.display, "business": cur.business,
                                "called": _local(cfg, cur.called_at), "calls": cur.calls,
                                "reason": cur.call_reason} if cur else None)})
    return out


def queue_state(session: Session, branch_id: str, now: datetime) -> QueueState:
    state = session.get(QueueState, branch_id)
    if state is None:
        state = lock_branch(session, branch_id, now)
    return state


def _recent_calls() -> Any:
    """A branch's last calls, newest first (walks the (branch_id, id) index backwards)."""
    steps, tickets = TicketStep.__table__.c, Ticket.__table__.c
    return (select(steps.at, steps.counter, tickets.display, tickets.business)
            .join_from(TicketStep.__table__, Ticket.__table__, tickets.id == steps.ticket_id)
            .where(steps.branch_id == bindparam("b_branch"), steps.action.in_(("called", "recalled")))
            .order_by(steps.id.desc()).limit(bindparam("n", type_=Integer())))


_RECENT_CALLS = _recent_calls()


def board(session: Session, cfg: BranchConfig, now: datetime, ctx: IssueContext | None = None) -> dict[str, Any]:
    """The branch's board: current calls, last N calls, waiting and P50/P90 per business.

    With the batch's issue context (taken under the branch lock, kept current while issuing), its
    snapshot and lanes are reused instead of read again."""
    snap = ctx.snap if ctx is not None else snapshot(session, cfg, now)
    lanes = ctx.lanes if ctx is not None else _lanes(session, [cfg.id])[cfg.id]
    current = [{"ticket": t.display, "counter": n, "business": t.business, "at": t.called_at.isoformat()}
               for n, t in sorted(snap.busy.items()) if t.status == TicketStatus.CALLED.value and t.called_at]
    calls = ctx.last_calls if ctx is not None else None
    if calls is None:
        recent = session.connection().execute(_RECENT_CALLS, {"b_branch": cfg.id, "n": cfg.queue.board_calls})
        calls = [{"ticket": r.display, "counter": r.counter, "business": r.business, "at": r.at.isoformat()}
                 for r in recent]
        if ctx is not None:
            ctx.last_calls = calls
    per_business = Tally(b for lane in lanes.values() for b in lane.all)
    by_channel: dict[str, list[str]] = {}
    for b in cfg.business_types:
        channel = b.channel.value if b.channel is not Channel.SELF_SERVICE else Channel.COUNTER.value
        by_channel.setdefault(channel, []).append(b.code)
    ests: dict[str, estimates.Estimate | None] = {}
    for channel, codes in by_channel.items():  # a regular ticket taken now would join the end of its lane
        ests.update(estimates.estimates_for(codes, lanes.get(channel, Lane()).all, snap.servers(channel),
                                            snap.stats))
    businesses = []
    for b in cfg.business_types:
        est = ests[b.code]
        businesses.append({"business": b.code, "name": {"zh": b.name.zh, "en": b.name.en},
                           "prefix": b.prefix, "waiting": per_business.get(b.code, 0),
                           "wait_p50_min": est.p50_min if est else None,
                           "wait_p90_min": est.p90_min if est else None})
    if ctx is not None:
        issuing, version = ctx.issuing, ctx.version
    else:
        state = session.get(QueueState, cfg.id)
        issuing, version = (bool(state.issuing), state.version) if state else (True, 0)
    return {"branch": cfg.id, "updated_at": now.isoformat(), "issuing": issuing, "current": current,
            "calls": calls, "waiting": dict(per_business), "businesses": businesses, "version": version}


def board_row(session: Session, cfg: BranchConfig, now: datetime, ctx: IssueContext | None = None) -> dict[str, Any]:
    """The branch's board as an outbox row (retained), marked as shown so the hub does not render it again."""
    session.flush()
    data = board(session, cfg, now, ctx)
    session.connection().execute(_MARK_SHOWN, [{"b_branch": cfg.id, "shown": data["version"]}])
    return outbox_row(branch_id=cfg.id, kind="queue_board", data=data, retain=True, now=now)


def _mark_shown() -> Any:
    t = QueueState.__table__.c
    return (update(QueueState.__table__).where(t.branch_id == bindparam("b_branch"))
            .values(board_version=bindparam("shown", type_=Integer())))


_MARK_SHOWN = _mark_shown()
STALE_BOARDS_PER_RUN = 200


def stale_boards(session: Session, now: datetime, limit: int = STALE_BOARDS_PER_RUN) -> list[dict[str, Any]]:
    """Boards of the branches whose queue changed since their last board (oldest change first).

    The hub issues kiosk tickets without rendering boards and calls this on its own clock, so a burst of
    changes in a branch costs one board, not one per batch. On PostgreSQL rows another worker is
    rendering are skipped, not waited for."""
    t = QueueState.__table__.c
    stmt = (select(t.branch_id, t.issuing, t.version).where(t.board_version < t.version)
            .order_by(t.updated_at).limit(limit))
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    due = session.execute(stmt).all()
    if not due:
        return []
    cfgs = branch_configs(session, [b for b, _issuing, _version in due])
    contexts = {b: ctx for b, issuing, version in due if b in cfgs
                and (ctx := _kept(session, b, cfgs[b], version, bool(issuing), now)) is not None}
    fresh = sorted(set(cfgs) - set(contexts))
    lanes, snaps = (_lanes(session, fresh), snapshots(session, [cfgs[b] for b in fresh], now)) if fresh else ({}, {})
    out, shown = [], []
    for branch, issuing, version in due:
        if branch in cfgs:
            ctx = contexts.get(branch) or IssueContext(cfgs[branch], bool(issuing), version, lanes[branch], 0,
                                                       snaps[branch])
            out.append(outbox_row(branch_id=branch, kind="queue_board", data=board(session, cfgs[branch], now, ctx),
                                  retain=True, now=now))
        shown.append({"b_branch": branch, "shown": version})
    session.connection().execute(_MARK_SHOWN, shown)
    return out


def call_row(cfg: BranchConfig, t: Ticket, now: datetime, *, recall: bool = False) -> dict[str, Any]:
    b = cfg.business(t.business)
    return outbox_row(branch_id=cfg.id, kind="queue_call", now=now, data={
        "ticket": t.display, "counter": t.counter, "business": t.business, "recall": recall,
        "at": now.isoformat(), "text": {
            "zh": f"请 {t.display} 号到 {t.counter} 号窗口" + (f"（{b.name.zh}）" if b else ""),
            "en": f"Ticket {t.display}, please go to counter {t.counter}"}})


# --- the customer's status page, KPIs, estimate accuracy ------------------------------------------

def public_status(session: Session, token: str, now: datetime) -> dict[str, Any] | None:
    """What the printed ticket's QR code shows: number, business, status, place and estimate; nothing
    personal."""
    t = session.scalars(select(Ticket).where(Ticket.token == token)).first()
    if t is None:
        return None
    cfg = branch_config(session, t.branch_id)
    b = cfg.business(t.business)
    ahead, est = 0, None
    if t.status in WAITING_STATES:
        ahead, est = estimate_for(t, _waiting(session, t.branch_id), snapshot(session, cfg, now))
    return {"ticket": t.display, "business": {"zh": b.name.zh, "en": b.name.en} if b else t.business,
            "branch": {"zh": cfg.name.zh, "en": cfg.name.en}, "status": t.status, "counter": t.counter,
            "people_ahead": ahead, "wait_p50_min": est.p50_min if est else None,
            "wait_p90_min": est.p90_min if est else None, "issued": _local(cfg, t.issued_at)}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))], 2)


def kpis(session: Session, branch_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Per business: tickets, average and P90 wait and service, % within target, no-shows, left without
    service; and the diversion rate (share handled at self-service)."""
    cfg = branch_config(session, branch_id)
    rows = list(session.scalars(select(Ticket).where(Ticket.branch_id == branch_id, Ticket.issued_at >= start,
                                                     Ticket.issued_at < end)))
    out = []
    for b in cfg.business_types:
        ts = [t for t in rows if t.business == b.code]
        waits = [(t.first_called_at - t.issued_at).total_seconds() / 60 for t in ts if t.first_called_at]
        services = [(t.finished_at - t.called_at).total_seconds() / 60 for t in ts
                    if t.status == TicketStatus.DONE.value and t.finished_at and t.called_at
                    and t.channel != Channel.SELF_SERVICE.value]
        errors = [abs(t.est_p50_min - (t.first_called_at - t.issued_at).total_seconds() / 60) for t in ts
                  if t.first_called_at and t.est_p50_min is not None and t.channel != Channel.SELF_SERVICE.value]
        out.append({
            "business": b.code, "tickets": len(ts),
            "wait_avg_min": round(statistics.fmean(waits), 2) if waits else None, "wait_p90_min": _pct(waits, 0.9),
            "service_avg_min": round(statistics.fmean(services), 2) if services else None,
            "service_p90_min": _pct(services, 0.9),
            "within_target_pct": round(100 * sum(w <= b.target_wait_min for w in waits) / len(waits), 1)
            if waits else None,
            "no_shows": sum(t.status == TicketStatus.NO_SHOW.value for t in ts),
            "left_without_service": sum(t.status == TicketStatus.CANCELLED.value
                                        or (t.status in WAITING_STATES and t.service_day < _today(cfg, end))
                                        for t in ts),
            "estimate_mae_min": round(statistics.fmean(errors), 2) if errors else None,
        })
    diverted = sum(t.channel == Channel.SELF_SERVICE.value for t in rows)
    return {"branch": branch_id, "from": start.isoformat(), "to": end.isoformat(), "tickets": len(rows),
            "diversion_rate": round(diverted / len(rows), 3) if rows else None, "businesses": out}


def _today(cfg: BranchConfig, when: datetime) -> str:
    return service_day(min(when, datetime.now(UTC)), cfg.timezone, cfg.hours).isoformat()


def estimate_mae(session: Session, branch_id: str, since: datetime) -> dict[str, float | None]:
    """Running mean absolute error of issue-time P50 estimates against actual waits, per business."""
    rows = session.execute(select(Ticket.business, Ticket.est_p50_min, Ticket.issued_at, Ticket.first_called_at)
                           .where(Ticket.branch_id == branch_id, Ticket.issued_at >= since,
                                  Ticket.first_called_at.is_not(None), Ticket.est_p50_min.is_not(None),
                                  Ticket.channel != Channel.SELF_SERVICE.value)).all()
    errs: dict[str, list[float]] = {}
    for r in rows:
        errs.setdefault(r.business, []).append(abs(r.est_p50_min - (r.first_called_at - r.issued_at)
                                                   .total_seconds() / 60))
    return {k: round(statistics.fmean(v), 2) for k, v in errs.items()}


def steps(session: Session, ticket_id: int) -> list[TicketStep]:
    return list(session.scalars(select(TicketStep).where(TicketStep.ticket_id == ticket_id)
                                .order_by(TicketStep.id)))
