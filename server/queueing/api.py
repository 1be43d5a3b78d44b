"""Queue HTTP API, the lobby console page and the customer's ticket status page.

Every change bumps the branch's queue version; a poller in the server process turns version changes
(made here or by the hub in another process) into `queue.changed` SSE events, and the console page
re-reads the queue.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as FPath
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.db import utcnow
from server.errors import Invalid
from server.outbox.service import enqueue
from server.queueing import board, calling, issuing, journey, kpis, lobby, locks, public, teller, tickets
from server.queueing.models import QueueState, Ticket
from server.queueing.schemas import (
    CounterActionOut,
    CounterStateOut,
    IssueIn,
    IssuingIn,
    IssuingOut,
    QueueKpisOut,
    QueueOut,
    ReprioritiseIn,
    TicketMovedOut,
    TicketOut,
    TransferIn,
)
from server.staff.models import Role
from server.web.deps import (
    Audit,
    DbSession,
    Principal,
    branch_scope,
    known_branch,
    not_found,
    require_page_roles,
    require_roles,
)
from server.web.i18n import negotiate, normalise, register_messages
from server.web.pages import Card, NavItem, add_template_dir, register_card, register_nav, render, request_locale
from server.web.validation import BranchId, IntId
from wire.messages import IssuedTicket, QueueBoardData

log = logging.getLogger(__name__)
router = APIRouter(tags=["queueing"])
HERE = Path(__file__).parent
QUEUE_ROLES = (Role.LOBBY_STAFF, Role.TELLER, Role.BRANCH_MANAGER)
QueueStaff = Annotated[Principal, Depends(require_roles(*QUEUE_ROLES))]
QueuePage = Annotated[Principal, Depends(require_page_roles(*QUEUE_ROLES))]
KPI_ROLES = (Role.BRANCH_MANAGER, Role.LOBBY_STAFF)
KpiStaff = Annotated[Principal, Depends(require_roles(*KPI_ROLES))]
KpiPage = Annotated[Principal, Depends(require_page_roles(*KPI_ROLES))]
KPI_MAX_DAYS = 366
CounterNo = Annotated[int, IntId]
POLL_S = 0.3


def scoped_ticket(session: Session, staff: Principal, ticket_id: int) -> Ticket:
    """A ticket in one of the caller's branches, or the same 404 as a missing one."""
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise not_found("ticket")
    branch_scope(staff, t.branch_id, "ticket")
    return t


def _board(session: Session, branch_id: str, now: datetime) -> None:
    enqueue(session, [board.board_row(session, locks.branch_config(session, branch_id), now)])


def queue_payload(session: Session, branch_id: str, now: datetime) -> dict[str, Any]:
    state = locks.queue_state(session, branch_id, now)
    return {"branch": branch_id, "issuing": state.issuing, "version": state.version,
            "waiting": lobby.waiting_list(session, branch_id, now),
            "counters": lobby.counters_view(session, branch_id, now),
            "estimate_mae_min": kpis.estimate_mae(session, branch_id, now - timedelta(days=1))}


# --- API ---------------------------------------------------------------------------------------

@router.get("/api/branches/{branch_id}/queue", response_model=QueueOut)
def get_queue(branch_id: BranchId, staff: QueueStaff, session: DbSession) -> dict[str, Any]:
    """Waiting tickets with routing reasons, place and P50/P90; counters with their current ticket."""
    known_branch(session, staff, branch_id)
    return queue_payload(session, branch_id, utcnow())


@router.get("/api/branches/{branch_id}/queue/board", response_model=QueueBoardData)
def get_board(branch_id: BranchId, staff: QueueStaff, session: DbSession) -> QueueBoardData:
    """The board as displays get it on `queue/board`."""
    known_branch(session, staff, branch_id)
    return board.board(session, locks.branch_config(session, branch_id), utcnow())


@router.get("/api/branches/{branch_id}/queue/kpis", response_model=QueueKpisOut)
def get_kpis(branch_id: BranchId, staff: KpiStaff, session: DbSession,
             start: Annotated[datetime | None, Query(alias="from")] = None,
             end: Annotated[datetime | None, Query(alias="to")] = None) -> dict[str, Any]:
    """Tickets, wait and service times (average, P90), % within target, no-shows, left without service,
    diversion rate; default: the last 24 hours."""
    known_branch(session, staff, branch_id)
    end = _aware(end) or utcnow()
    start = _aware(start) or end - timedelta(days=1)
    if start >= end:
        raise Invalid("bad_range", "`from` must be before `to`")
    return kpis.kpis(session, branch_id, start, end)


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=utcnow().tzinfo)


@router.post("/api/branches/{branch_id}/tickets", status_code=201, response_model=IssuedTicket,
             response_model_exclude_none=True)
def issue_ticket(branch_id: BranchId, body: IssueIn, staff: QueueStaff, session: DbSession,
                 audit: Audit) -> IssuedTicket:
    """Issue a ticket at the lobby desk."""
    known_branch(session, staff, branch_id)
    teller.branch_wide(staff.role, "issuing at the desk")
    issued = issuing.issue(session, branch_id=branch_id, business=body.business, now=utcnow(), source="staff",
                           tier=body.tier.value, elderly=body.elderly, appointment_at=body.appointment_at,
                           actor=staff.actor)
    enqueue(session, issued.outbox)
    audit.record("queue.issue", "ticket", issued.ticket.id, branch_id=branch_id,
                 detail={"business": body.business, "rule": issued.ticket.reasons[0]["rule"]})
    from server.queueing.flows import issued_ticket

    return issued_ticket(issued)


def _counter_action(action: str, branch_id: str, counter: int, staff: Principal, session: Session,
                    audit: Audit) -> dict[str, Any]:
    known_branch(session, staff, branch_id)
    teller.own_counter(session, role=staff.role, staff_id=staff.id, branch_id=branch_id, counter=counter)
    now = utcnow()
    if action == "call-next":
        res = calling.call_next(session, branch_id=branch_id, counter=counter, now=now, actor=staff.actor,
                                staff_name=staff.display_name)
    elif action == "recall":
        res = calling.recall(session, branch_id=branch_id, counter=counter, now=now, actor=staff.actor)
    else:
        res = calling.finish(session, branch_id=branch_id, counter=counter, now=now, actor=staff.actor)
    enqueue(session, res.outbox)
    t = res.ticket
    audit.record(f"queue.{action}", "counter", counter, branch_id=branch_id,
                 detail={"ticket_id": t.id if t else None, "finished_id": res.finished.id if res.finished else None})
    return {"counter": counter, "ticket": t.display if t else None, "ticket_id": t.id if t else None,
            "reason": t.call_reason if t else None,
            "finished": res.finished.display if res.finished else None}


@router.post("/api/branches/{branch_id}/counters/{counter}/call-next", response_model=CounterActionOut)
def call_next(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
              audit: Audit) -> dict[str, Any]:
    """Finish the counter's ticket and call the next one; the answer says why this ticket now."""
    return _counter_action("call-next", branch_id, counter, staff, session, audit)


@router.post("/api/branches/{branch_id}/counters/{counter}/recall", response_model=CounterActionOut)
def recall(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
           audit: Audit) -> dict[str, Any]:
    """Call the counter's current ticket again."""
    return _counter_action("recall", branch_id, counter, staff, session, audit)


@router.post("/api/branches/{branch_id}/counters/{counter}/finish", response_model=CounterActionOut)
def finish(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
           audit: Audit) -> dict[str, Any]:
    """The counter's current ticket is served."""
    return _counter_action("finish", branch_id, counter, staff, session, audit)


def _set_counter(branch_id: str, counter: int, is_open: bool, staff: Principal, session: Session,
                 audit: Audit) -> dict[str, Any]:
    known_branch(session, staff, branch_id)
    teller.own_counter(session, role=staff.role, staff_id=staff.id, branch_id=branch_id, counter=counter)
    now = utcnow()
    calling.set_counter(session, branch_id=branch_id, counter=counter, open=is_open, now=now,
                        staff_id=staff.id, staff_name=staff.display_name, actor=staff.actor)
    _board(session, branch_id, now)
    audit.record("queue.counter_open" if is_open else "queue.counter_close", "counter", counter, branch_id=branch_id)
    return {"counter": counter, "open": is_open}


@router.post("/api/branches/{branch_id}/counters/{counter}/open", response_model=CounterStateOut)
def open_counter(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
                 audit: Audit) -> dict[str, Any]:
    """Open a counter (the caller staffs it)."""
    return _set_counter(branch_id, counter, True, staff, session, audit)


@router.post("/api/branches/{branch_id}/counters/{counter}/close", response_model=CounterStateOut)
def close_counter(branch_id: BranchId, counter: CounterNo, staff: QueueStaff, session: DbSession,
                  audit: Audit) -> dict[str, Any]:
    """Close a counter (it must not be serving)."""
    return _set_counter(branch_id, counter, False, staff, session, audit)


@router.post("/api/branches/{branch_id}/queue/issuing", response_model=IssuingOut)
def set_issuing(branch_id: BranchId, body: IssuingIn, staff: QueueStaff, session: DbSession,
                audit: Audit) -> dict[str, Any]:
    """Stop issuing tickets for today (kiosks are refused), or re-open."""
    known_branch(session, staff, branch_id)
    teller.branch_wide(staff.role, "stopping or re-opening issuing")
    now = utcnow()
    locks.set_issuing(session, branch_id=branch_id, issuing=body.issuing, now=now)
    _board(session, branch_id, now)
    audit.record("queue.issuing", "branch", branch_id, branch_id=branch_id, detail={"issuing": body.issuing})
    return {"branch": branch_id, "issuing": body.issuing}


@router.get("/api/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: IntId, staff: QueueStaff, session: DbSession) -> dict[str, Any]:
    """A ticket and its journey (every step with time, channel, counter and who)."""
    t = scoped_ticket(session, staff, ticket_id)
    return {"id": t.id, "ticket": t.display, "number": t.number, "business": t.business, "channel": t.channel,
            "priority": t.priority, "status": t.status, "reasons": t.reasons, "call_reason": t.call_reason,
            "counter": t.counter, "identified": t.customer_ref is not None,
            "issued_at": t.issued_at.isoformat(), "est_p50_min": t.est_p50_min, "est_p90_min": t.est_p90_min,
            "journey": [{"at": s.at.isoformat(), "action": s.action, "channel": s.channel, "business": s.business,
                         "counter": s.counter, "actor": s.actor, "detail": s.detail}
                        for s in journey.steps(session, t.id)]}


def _ticket_action(action: str, ticket_id: int, staff: Principal, session: Session, audit: Audit,
                   **kw: Any) -> dict[str, Any]:
    t = scoped_ticket(session, staff, ticket_id)
    teller.own_ticket(session, role=staff.role, staff_id=staff.id, ticket=t)
    now = utcnow()
    if action in ("transfer", "reprioritise"):
        fn = tickets.transfer if action == "transfer" else tickets.reprioritise
        t = fn(session, ticket_id=ticket_id, now=now, actor=staff.actor, **kw)
    else:
        t = tickets.apply(session, ticket_id=ticket_id, action=action.replace("-", "_"), now=now, actor=staff.actor)
    _board(session, t.branch_id, now)
    audit.record(f"queue.{action}", "ticket", t.id, branch_id=t.branch_id,
                 detail={k: v for k, v in kw.items() if k != "reason"})
    return {"id": t.id, "ticket": t.display, "status": t.status, "business": t.business, "channel": t.channel,
            "priority": t.priority}


@router.post("/api/tickets/{ticket_id}/transfer", response_model=TicketMovedOut)
def transfer(ticket_id: IntId, body: TransferIn, staff: QueueStaff, session: DbSession,
             audit: Audit) -> dict[str, Any]:
    """To another business or counter, at the front or the back; the customer keeps the ticket."""
    return _ticket_action("transfer", ticket_id, staff, session, audit, business=body.business,
                          counter=body.counter, front=body.front)


@router.post("/api/tickets/{ticket_id}/park", response_model=TicketMovedOut)
def park(ticket_id: IntId, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """The customer steps aside; the counter is free."""
    return _ticket_action("park", ticket_id, staff, session, audit)


@router.post("/api/tickets/{ticket_id}/resume", response_model=TicketMovedOut)
def resume(ticket_id: IntId, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """A parked ticket goes back to the front of its line."""
    return _ticket_action("resume", ticket_id, staff, session, audit)


@router.post("/api/tickets/{ticket_id}/no-show", response_model=TicketMovedOut)
def no_show(ticket_id: IntId, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """The customer did not come."""
    return _ticket_action("no-show", ticket_id, staff, session, audit)


@router.post("/api/tickets/{ticket_id}/finish", response_model=TicketMovedOut)
def finish_ticket(ticket_id: IntId, staff: QueueStaff, session: DbSession, audit: Audit) -> dict[str, Any]:
    """Served (e.g. a self-service ticket done at the device)."""
    return _ticket_action("finish", ticket_id, staff, session, audit)


@router.post("/api/tickets/{ticket_id}/reprioritise", response_model=TicketMovedOut)
def reprioritise(ticket_id: IntId, body: ReprioritiseIn, staff: QueueStaff, session: DbSession,
                 audit: Audit) -> dict[str, Any]:
    """Change a waiting ticket's calling class, with a reason."""
    return _ticket_action("reprioritise", ticket_id, staff, session, audit, priority=body.priority.value,
                          reason=body.reason)


# --- pages -------------------------------------------------------------------------------------

@router.get("/queue", include_in_schema=False)
def queue_home(staff: QueuePage, session: DbSession) -> Response:
    first = session.scalar(select(Branch.id).where(staff.scope(Branch.id)).order_by(Branch.id))
    return RedirectResponse(f"/branches/{first}/queue" if first else "/", status_code=303)


@router.get("/branches/{branch_id}/queue", include_in_schema=False)
def queue_page(branch_id: BranchId, staff: QueuePage, session: DbSession, request: Request) -> Response:
    known_branch(session, staff, branch_id)
    cfg = locks.branch_config(session, branch_id)
    return render(request, "queue_console.html", {"branch": cfg, "branch_id": branch_id})


@router.get("/branches/{branch_id}/queue/kpis", include_in_schema=False)
def kpi_page(branch_id: BranchId, staff: KpiPage, session: DbSession, request: Request,
             first: Annotated[date | None, Query(alias="from")] = None,
             last: Annotated[date | None, Query(alias="to")] = None) -> Response:
    """Queue KPIs per business for whole days in the branch's time zone (default: today), with a chart."""
    known_branch(session, staff, branch_id)
    cfg = locks.branch_config(session, branch_id)
    tz = ZoneInfo(cfg.timezone)
    today = utcnow().astimezone(tz).date()
    first = first or last or today
    last = last or first
    if last < first:
        first, last = last, first
    first = max(first, last - timedelta(days=KPI_MAX_DAYS - 1))
    k = kpis.kpis(session, branch_id, datetime.combine(first, time(), tz),
                     datetime.combine(last + timedelta(days=1), time(), tz))
    zh = request_locale(request, staff) == "zh-CN"
    names = {b.code: (b.name.zh if zh else b.name.en) for b in cfg.business_types}
    targets = {b.code: b.target_wait_min for b in cfg.business_types}
    rows = [{**b, "name": names.get(b["business"], b["business"])} for b in k["businesses"]]
    return render(request, "queue_kpis.html", {
        "branch": cfg, "branch_id": branch_id, "first": first, "last": last, "k": k, "rows": rows,
        "chart": wait_chart(rows, targets), "num": _num, "pct": _pct})


def wait_chart(rows: list[dict[str, Any]], targets: dict[str, float], width: int = 640,
               label_w: int = 150) -> dict[str, Any]:
    """Geometry of the wait bars (average inside P90, the target as a mark) for businesses with waits."""
    shown = [r for r in rows if r["wait_avg_min"] is not None]
    top = max([1.0, *(r["wait_p90_min"] or 0 for r in shown), *(targets.get(r["business"], 0) for r in shown)])
    room = width - label_w - 120  # the value is written after the bar

    def x(v: float | None) -> float:
        return round((v or 0) / top * room, 1)

    out = [{"name": r["name"], "y": 10 + 32 * i, "avg": _num(r["wait_avg_min"]), "p90": _num(r["wait_p90_min"]),
            "avg_w": x(r["wait_avg_min"]), "p90_w": x(r["wait_p90_min"]),
            "target": _num(targets.get(r["business"])), "target_x": label_w + x(targets.get(r["business"]))}
           for i, r in enumerate(shown)]
    return {"rows": out, "width": width, "height": 20 + 32 * len(out), "label_w": label_w}


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


@router.get("/t/{token}", include_in_schema=False)
def ticket_status_page(token: Annotated[str, FPath(max_length=64)], request: Request,
                       session: DbSession) -> Response:
    """Public: the printed ticket's QR code. Shows the number, place and estimate; nothing personal."""
    status = public.public_status(session, token, utcnow()) if _token_ok(token) else None
    chosen = normalise(request.query_params.get("lang"))  # the page's own switch; else the browser's
    locale = chosen or negotiate(request.headers.get("accept-language"))
    refresh = f"30; url=/t/{token}?lang={chosen}" if chosen and status else "30"
    return render(request, "queue_ticket.html", {"s": status, "token": token}, status=200 if status else 404,
                  headers={"Cache-Control": "no-store", "Refresh": refresh, "Vary": "Accept-Language"},
                  locale=locale)


def _token_ok(token: str) -> bool:
    return 8 <= len(token) <= 40 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


# --- live updates, nav, card ---------------------------------------------------------------------

def _poll(app_ref: weakref.ref[FastAPI]) -> None:
    """Publish `queue.changed` when a branch's queue version moves (changes from any process)."""
    seen: dict[str, int] = {}
    primed = False
    while True:
        app = app_ref()
        if app is None or app.state.events.closed:
            return
        events = app.state.events
        try:
            # versions are tracked even with nobody listening, so a change made just after the first
            # console subscribes is still seen as a change (one small row per branch)
            with app.state.sessions() as s:
                rows = s.execute(select(QueueState.branch_id, QueueState.version, QueueState.issuing)).all()
            for r in rows:
                if seen.get(r.branch_id) != r.version:
                    if primed and events.subscriber_count:
                        events.publish("queue.changed", {"version": r.version, "issuing": r.issuing},
                                       branch_id=r.branch_id)
                    seen[r.branch_id] = r.version
            primed = True
        except Exception:  # the database may be away for a moment; try again
            log.debug("queue poll failed", exc_info=True)
        del app
        threading.Event().wait(POLL_S)


def setup(app: FastAPI) -> None:
    add_template_dir(HERE / "templates")
    app.mount("/static/queueing", StaticFiles(directory=HERE / "static"), name="queueing-static")
    register_nav(NavItem("nav.queue", "/queue", frozenset(QUEUE_ROLES), order=20))
    register_card(Card("queue", "card.queue", "queue_card.html", None, 10))
    register_messages(MESSAGES)
    threading.Thread(target=_poll, args=(weakref.ref(app),), name="queue-poller", daemon=True).start()


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "nav.queue": "Queue", "queue.title": "Lobby queue", "queue.waiting": "Waiting", "queue.counters": "Counters",
        "queue.ticket": "Ticket", "queue.business": "Business", "queue.reason": "Why here",
        "queue.waited": "Waited", "queue.ahead": "Ahead", "queue.estimate": "Estimate (P50/P90)",
        "queue.actions": "Actions", "queue.call_next": "Call next", "queue.recall": "Recall",
        "queue.finish": "Finish", "queue.open": "Open", "queue.close": "Close", "queue.closed": "closed",
        "queue.idle": "idle", "queue.park": "Park", "queue.resume": "Resume", "queue.no_show": "No-show",
        "queue.transfer": "Transfer", "queue.priority": "Priority", "queue.call_to": "Call to",
        "queue.stop_issuing": "Stop issuing tickets today", "queue.resume_issuing": "Re-open ticket issuing",
        "queue.issuing_stopped": "Ticket issuing is stopped", "queue.alerts": "Near target wait",
        "queue.no_alerts": "Nobody near the target wait.", "queue.empty": "Nobody is waiting.",
        "queue.mae": "Estimate error (mean, minutes)", "queue.min": "min", "queue.issue": "Issue ticket",
        "queue.why": "Why this ticket", "queue.teller": "Teller", "queue.reprioritise_reason": "Reason for priority",
        "queue.status_title": "Your ticket", "queue.status_ahead": "People ahead of you",
        "queue.status_wait": "Estimated wait", "queue.status_called": "Please go to counter {counter}",
        "queue.status_done": "This ticket is finished. Thank you!", "queue.status_unknown": "Ticket not found.",
        "queue.status_self": "Please use a self-service device.", "queue.status_refresh": "This page refreshes itself.",
        "queue.status.waiting": "waiting", "queue.status.transferred": "waiting (transferred)",
        "queue.status.parked": "parked", "queue.status.called": "called", "queue.status.serving": "being served",
        "queue.status.done": "done", "queue.status.no_show": "missed", "queue.status.cancelled": "cancelled",
        "card.queue.waiting": "{n} waiting", "card.queue.open": "Open the lobby queue",
        "qkpi.title": "Queue KPIs", "qkpi.link": "Queue KPIs", "qkpi.back": "Back to the lobby queue",
        "qkpi.from": "From", "qkpi.to": "To", "qkpi.show": "Show", "qkpi.tickets": "Tickets",
        "qkpi.diversion": "Handled at self-service",
        "qkpi.diversion_help": "Share of tickets routed to the self-service devices.",
        "qkpi.chart": "Wait per business: average and P90 against the target",
        "qkpi.wait_avg": "Average wait", "qkpi.wait_p90": "P90 wait", "qkpi.target": "Target wait",
        "qkpi.service_avg": "Average service", "qkpi.service_p90": "P90 service",
        "qkpi.within_target": "Called within target", "qkpi.no_shows": "No-shows",
        "qkpi.left": "Left without service", "qkpi.empty": "No ticket was called in this period.",
        "qkpi.units": "Times in minutes; days in the branch's time zone, both ends included.",
    },
    "zh-CN": {
        "nav.queue": "排队叫号", "queue.title": "大堂排队", "queue.waiting": "等候中", "queue.counters": "窗口",
        "queue.ticket": "号码", "queue.business": "业务", "queue.reason": "分流原因",
        "queue.waited": "已等候", "queue.ahead": "前面人数", "queue.estimate": "预计等候（P50/P90）",
        "queue.actions": "操作", "queue.call_next": "叫下一位", "queue.recall": "重呼",
        "queue.finish": "办结", "queue.open": "开窗", "queue.close": "关窗", "queue.closed": "已关闭",
        "queue.idle": "空闲", "queue.park": "挂起", "queue.resume": "恢复", "queue.no_show": "过号",
        "queue.transfer": "转移", "queue.priority": "设为优先", "queue.call_to": "叫到窗口",
        "queue.stop_issuing": "今日停止取号", "queue.resume_issuing": "恢复取号",
        "queue.issuing_stopped": "已停止取号", "queue.alerts": "接近目标等候时间",
        "queue.no_alerts": "暂无接近目标等候时间的客户。", "queue.empty": "暂无客户等候。",
        "queue.mae": "预计误差（平均，分钟）", "queue.min": "分钟", "queue.issue": "取号",
        "queue.why": "叫号原因", "queue.teller": "柜员", "queue.reprioritise_reason": "设为优先的原因",
        "queue.status_title": "您的号码", "queue.status_ahead": "您前面还有",
        "queue.status_wait": "预计等候", "queue.status_called": "请到 {counter} 号窗口",
        "queue.status_done": "本号已办结，谢谢！", "queue.status_unknown": "未找到该号码。",
        "queue.status_self": "请使用自助设备办理。", "queue.status_refresh": "本页自动刷新。",
        "queue.status.waiting": "等候中", "queue.status.transferred": "等候中（已转移）",
        "queue.status.parked": "已挂起", "queue.status.called": "已叫号", "queue.status.serving": "办理中",
        "queue.status.done": "已办结", "queue.status.no_show": "已过号", "queue.status.cancelled": "已取消",
        "card.queue.waiting": "{n} 人等候", "card.queue.open": "打开大堂排队",
        "qkpi.title": "排队指标", "qkpi.link": "排队指标", "qkpi.back": "返回大堂排队",
        "qkpi.from": "开始日期", "qkpi.to": "结束日期", "qkpi.show": "查询", "qkpi.tickets": "取号数",
        "qkpi.diversion": "自助分流率",
        "qkpi.diversion_help": "分流到自助设备办理的号码占比。",
        "qkpi.chart": "各业务等候时间：平均值与 P90 对比目标",
        "qkpi.wait_avg": "平均等候", "qkpi.wait_p90": "P90 等候", "qkpi.target": "目标等候",
        "qkpi.service_avg": "平均办理", "qkpi.service_p90": "P90 办理",
        "qkpi.within_target": "目标内叫号", "qkpi.no_shows": "过号",
        "qkpi.left": "未办理离开", "qkpi.empty": "该时段内没有叫号记录。",
        "qkpi.units": "时间单位为分钟；日期按网点时区，含起止两天。",
    },
}
