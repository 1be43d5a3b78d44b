"""The branch's board for displays (`queue/board`, retained) and its calls (`queue/call`), as outbox rows.

The hub renders boards on its own clock (`stale_boards`, one of the ingest DEFERRED): a burst of changes in
a branch costs one board, not one per batch; staff changes render theirs at once (`board_row`).
"""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.orm import Session

from server.outbox.service import OutboxRow, outbox_row
from server.queueing import estimates
from server.queueing.cache import QueueCache
from server.queueing.locks import branch_configs
from server.queueing.models import QueueState, Ticket, TicketStep
from server.queueing.snapshot import IssueContext, Lane, snapshot, snapshots, waiting_lanes
from server.queueing.transitions import TicketStatus
from szconfig.branch import BranchConfig, Channel
from wire.messages import BilingualText, BoardBusiness, BoardCall, BoardPaused, QueueBoardData, QueueCallData, bilingual


def _recent_calls() -> Any:
    """A branch's last calls, newest first (walks the (branch_id, id) index backwards)."""
    steps, tickets = TicketStep.__table__.c, Ticket.__table__.c
    return (select(steps.at, steps.counter, tickets.display, tickets.business)
            .join_from(TicketStep.__table__, Ticket.__table__, tickets.id == steps.ticket_id)
            .where(steps.branch_id == bindparam("b_branch"), steps.action.in_(("called", "recalled")))
            .order_by(steps.id.desc()).limit(bindparam("n", type_=Integer())))


_RECENT_CALLS = _recent_calls()


def board(session: Session, cfg: BranchConfig, now: datetime, ctx: IssueContext | None = None) -> QueueBoardData:
    """The branch's board: current calls, last N calls, waiting and P50/P90 per business.

    With the batch's issue context (taken under the branch lock, kept current while issuing), its
    snapshot and lanes are reused instead of read again."""
    snap = ctx.snap if ctx is not None else snapshot(session, cfg, now)
    lanes = ctx.lanes if ctx is not None else waiting_lanes(session, [cfg.id])[cfg.id]
    current = [BoardCall(ticket=t.display, counter=n, business=t.business, at=t.called_at)
               for n, t in sorted(snap.busy.items()) if t.status == TicketStatus.CALLED.value and t.called_at]
    calls = ctx.last_calls if ctx is not None else None
    if calls is None:
        recent = session.connection().execute(_RECENT_CALLS, {"b_branch": cfg.id, "n": cfg.queue.board_calls})
        calls = [BoardCall(ticket=r.display, counter=r.counter, business=r.business, at=r.at) for r in recent]
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
        businesses.append(BoardBusiness(business=b.code, name=bilingual(b.name.zh, b.name.en),
                                        prefix=b.prefix, waiting=per_business.get(b.code, 0),
                                        wait_p50_min=est.p50_min if est else None,
                                        wait_p90_min=est.p90_min if est else None))
    if ctx is not None:
        issuing, version = ctx.issuing, ctx.version
    else:
        state = session.get(QueueState, cfg.id)
        issuing, version = (bool(state.issuing), state.version) if state else (True, 0)
    paused = [BoardPaused(counter=c.number, reason=c.pause_reason, text=pause_text(c.number, c.pause_reason))
              for c in sorted(snap.counters, key=lambda c: c.number) if c.pause_reason]
    return QueueBoardData(branch=cfg.id, updated_at=now, issuing=issuing, current=current, calls=calls,
                          waiting=dict(per_business), businesses=businesses, version=version, paused=paused)


PAUSE_TEXT = {"lunch": ("午餐", "lunch break"), "meeting": ("会议", "meeting"),
              "system_fault": ("系统故障", "system fault"), "other": ("暂停", "paused")}


def pause_text(counter: int, reason: str) -> BilingualText:
    zh, en = PAUSE_TEXT.get(reason, PAUSE_TEXT["other"])
    return BilingualText(zh=f"{counter} 号窗口暂停服务（{zh}）", en=f"Counter {counter} is paused ({en})")


def board_row(session: Session, cfg: BranchConfig, now: datetime, ctx: IssueContext | None = None) -> OutboxRow:
    """The branch's board as an outbox row (retained), marked as shown so the hub does not render it again."""
    session.flush()
    data = board(session, cfg, now, ctx)
    session.connection().execute(_MARK_SHOWN, [{"b_branch": cfg.id, "shown": data.version}])
    return outbox_row(branch_id=cfg.id, data=data, now=now)


def _mark_shown() -> Any:
    t = QueueState.__table__.c
    return (update(QueueState.__table__).where(t.branch_id == bindparam("b_branch"))
            .values(board_version=bindparam("shown", type_=Integer())))


_MARK_SHOWN = _mark_shown()


STALE_BOARDS_PER_RUN = 200


def stale_boards(session: Session, now: datetime, cache: QueueCache | None = None,
                 limit: int = STALE_BOARDS_PER_RUN) -> list[OutboxRow]:
    """Boards of the branches whose queue changed since their last board (oldest change first).

    The hub issues kiosk tickets without rendering boards and calls this on its own clock, so a burst of
    changes in a branch costs one board, not one per batch; a queue its cache kept at the current version
    is not read again. On PostgreSQL rows another worker is rendering are skipped, not waited for."""
    t = QueueState.__table__.c
    stmt = (select(t.branch_id, t.issuing, t.version).where(t.board_version < t.version)
            .order_by(t.updated_at).limit(limit))
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    due = session.execute(stmt).all()
    if not due:
        return []
    cfgs = branch_configs(session, [b for b, _issuing, _version in due])
    contexts = {b: ctx for b, issuing, version in due if b in cfgs and cache is not None
                and (ctx := cache.get(b, cfgs[b], version, bool(issuing), now)) is not None}
    fresh = sorted(set(cfgs) - set(contexts))
    lanes, snaps = ((waiting_lanes(session, fresh), snapshots(session, [cfgs[b] for b in fresh], now)) if fresh
                    else ({}, {}))
    out, shown = [], []
    for branch, issuing, version in due:
        if branch in cfgs:
            ctx = contexts.get(branch) or IssueContext(cfgs[branch], bool(issuing), version, lanes[branch], 0,
                                                       snaps[branch])
            out.append(outbox_row(branch_id=branch, data=board(session, cfgs[branch], now, ctx), now=now))
        shown.append({"b_branch": branch, "shown": version})
    session.connection().execute(_MARK_SHOWN, shown)
    return out


def call_row(cfg: BranchConfig, t: Ticket, now: datetime, *, recall: bool = False) -> OutboxRow:
    b = cfg.business(t.business)
    return outbox_row(branch_id=cfg.id, now=now, data=QueueCallData(
        ticket=t.display, counter=t.counter, business=t.business, recall=recall, at=now, ticket_id=t.id,
        text=BilingualText(
            zh=f"请 {t.display} 号到 {t.counter} 号窗口" + (f"（{b.name.zh}）" if b else ""),
            en=f"Ticket {t.display}, please go to counter {t.counter}")))

