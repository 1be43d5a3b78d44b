"""The leads worklist and the webhook delivery log in Debian's headless Chromium."""

from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.customers.demo import demo_rows
from server.customers.importer import parse_row
from server.customers.service import upsert_customer
from server.db import utcnow
from server.referrals.models import Referral, Routing
from server.referrals.service import create_leads
from tests.server.helpers import PASSWORD
from tests.server.test_browser import ARTIFACTS, chromium  # noqa: F401 (fixture)
from tests.support import WebhookReceiver

pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
KEY = "k" * 8


def _customers(factory, specs: list[tuple[str, str]]) -> list[int]:
    now = utcnow()
    with factory() as s, s.begin():
        return [upsert_customer(s, parse_row({**demo_rows()[n % 6], "customer_id": f"BR{n}", "phone": "",
                                              "card_number": "", "tier": tier, "aum_band": band}, [KEY], KEY),
                                branch_id="b001", now=now)[0].id for n, (tier, band) in enumerate(specs)]


def _lead(factory, customer: int, reason: str, business: str | None, minutes_ago: float = 0) -> int:
    """A lead as the hub raises it (another process: the page learns of it through the poller)."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    with factory() as s, s.begin():
        rows = create_leads(s, [{"branch_id": "b001", "customer_id": customer, "reason": reason, "business": business,
                                 "referrer": f"rule:{reason}"}], at)
        return rows[0].data.lead_id


def _sign_in(chromium, url: str, username: str, locale: str, viewport=(1366, 768)):  # noqa: F811
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale=locale,
                                   timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/branches/b001")
    return context, page, errors


def _order(page) -> list[int]:
    return [int(x) for x in page.locator("[data-testid=leads] article.lead").evaluate_all(
        "els => els.map(e => e.dataset.lead)")]


@pytest.mark.parametrize("viewport", [(1366, 768), (800, 1280)], ids=["branch-pc", "tablet-portrait"])
def test_leads_ranked_reassigned_followed_up(chromium, migrated, make_user, viewport):  # noqa: F811
    """GIVEN a branch manager, two customer managers and leads of a standard, a gold and a private customer
    WHEN the branch manager opens the leads page, a VIP's lead arrives from the hub, and they reassign it, add a
    follow-up and decline another lead with an outcome
    THEN the leads are ranked (the private customer first, the long-waiting gold above the fresh standard), the VIP
    lands in its rank without a reload, the reassignment and follow-up show and are stored, a walk-in needs a
    reason (its numbers masked), the page fits, and it reads in Chinese and in English."""
    from server.app import create_app
    from server.runner import ServerThread

    engine, factory = migrated
    make_user("bm1", "branch_manager")
    cm1, cm2 = make_user("cm1", "customer_manager"), make_user("cm2", "customer_manager")
    standard, gold, private, vip = _customers(factory, [("standard", "0-50k"), ("gold", "50k-500k"),
                                                        ("private", "6m+"), ("vip", "500k-6m")])
    low = _lead(factory, standard, "wealth_business", "wealth")          # 0 + 0 + 20 (a wealth interest)
    waited = _lead(factory, gold, "wealth_business", "wealth", 21)        # 10 + 5 + 20, + 20 for 21 min waiting
    top = _lead(factory, private, "vip_arrival", "wealth")                # 35 + 25 + 20
    srv = ServerThread(create_app(engine=engine), "127.0.0.1", 0).start()
    try:
        context, page, errors = _sign_in(chromium, srv.url, "bm1", "zh-CN", viewport)
        page.goto(f"{srv.url}/referrals")
        page.get_by_test_id(f"lead-{top}").wait_for(timeout=10_000)
        assert _order(page) == [top, waited, low]
        assert "贵宾到店" in page.get_by_test_id(f"lead-{top}").inner_text()
        page.locator("#live-status.ok").wait_for(state="attached", timeout=10_000)

        arrived = _lead(factory, vip, "vip_arrival", "wealth")             # 25 + 15 + 20: between top and waited
        page.get_by_test_id(f"lead-{arrived}").wait_for(timeout=10_000)
        assert _order(page) == [top, arrived, waited, low]

        page.get_by_test_id(f"assign-{arrived}").select_option(str(cm2))
        page.get_by_test_id(f"give-{arrived}").click()
        page.get_by_test_id(f"assignee-{arrived}").get_by_text("cm2").wait_for(timeout=10_000)
        page.get_by_test_id(f"task-{arrived}").click()
        page.get_by_test_id(f"task-note-{arrived}").fill("回电 13912345678 约理财面谈")
        page.get_by_test_id(f"task-save-{arrived}").click()
        page.get_by_test_id(f"tasks-{arrived}").get_by_text("1 项待办").wait_for(timeout=10_000)
        page.get_by_test_id(f"decline-{low}").click()
        page.get_by_test_id(f"outcome-{low}").select_option("not_interested")
        page.get_by_test_id(f"decline-ok-{low}").click()
        page.get_by_test_id(f"lead-{low}").wait_for(state="detached", timeout=10_000)  # the open list drops it
        page.get_by_test_id("walk-in").locator("summary").click()
        page.get_by_test_id("walk-in-submit").click()
        page.locator("#walk-in-error").get_by_text("walk_in_reason").wait_for(timeout=10_000)  # refused: no reason
        page.get_by_test_id("walk-in-reason").fill("带 13800138000 名片来问大额存单")
        page.get_by_test_id("walk-in-submit").click()
        walk_in = page.locator("article.lead", has_text="散客")
        walk_in.wait_for(timeout=10_000)
        assert "138****8000" in walk_in.inner_text() and "13800138000" not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"leads-zh-{viewport[0]}x{viewport[1]}.png"), full_page=True)

        page.get_by_test_id("lang-en").click()
        page.locator("html[lang=en]").wait_for(state="attached", timeout=10_000)
        page.get_by_test_id(f"lead-{top}").get_by_text("VIP arrived").wait_for(timeout=10_000)
        page.get_by_test_id("filter-kind").select_option("customer")
        page.get_by_test_id("filter-tier").select_option("vip")
        page.get_by_test_id("filter-apply").click()
        page.wait_for_url("**tier=vip**")
        page.get_by_test_id(f"lead-{arrived}").wait_for(timeout=10_000)
        assert _order(page) == [arrived]
        page.goto(f"{srv.url}/referrals")
        page.get_by_test_id(f"lead-{top}").wait_for(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / f"leads-en-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert not errors, errors
        context.close()
    finally:
        srv.stop()
    with factory() as s:
        moved = s.get(Referral, arrived)
        assert (moved.assigned_to, moved.routed) == (cm2, Routing.MANUAL)
        declined = s.get(Referral, low)
        assert (declined.status, declined.outcome) == ("declined", "not_interested")
        from server.referrals.models import LeadTask

        [task] = s.scalars(select(LeadTask).where(LeadTask.lead_id == arrived))
        assert "13912345678" not in task.note and task.assigned_to == cm2
    assert cm1 != cm2


def test_webhook_dead_letter_resent_from_the_page(chromium, migrated, make_user):  # noqa: F811
    """GIVEN an external CRM that refused a lead change (a 400: dead at once) and accepted another
    WHEN a branch manager opens the webhook page, filters the dead letters and resends the refused one
    THEN the page shows both with their states, the resend queues it (same idempotency key), and once the job
    delivers it the page shows it delivered, resent once."""
    from server.app import create_app
    from server.customers.config import configure, crm
    from server.runner import ServerThread
    from server.webhooks.models import WebhookDelivery
    from server.webhooks.scheduled import deliver_webhooks
    from server.webhooks.service import enqueue

    engine, factory = migrated
    make_user("bm1", "branch_manager")
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebhookReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    WebhookReceiver.plan[:], WebhookReceiver.got[:] = [400], []
    srv = ServerThread(create_app(engine=engine), "127.0.0.1", 0).start()  # (the app configures the CRM first)
    saved = crm()
    configure(saved.settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{receiver.server_port}/hook",
                                                "webhook_secret": "test-secret-1"}), saved.rules)
    try:
        t = utcnow()
        with factory() as s, s.begin():
            enqueue(s, [("lead:7:created", "lead.created", "b001", {"lead_id": 7}),
                        ("lead:8:created", "lead.created", "b001", {"lead_id": 8})], t)
        deliver_webhooks(factory, t)
        with factory() as s:
            dead = s.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "dead"))
            dead_id, ok_id = dead.id, s.scalar(select(WebhookDelivery.id).where(WebhookDelivery.id != dead.id))
        context, page, errors = _sign_in(chromium, srv.url, "bm1", "en-US")
        page.goto(f"{srv.url}/webhooks")
        page.get_by_test_id(f"wh-{ok_id}").wait_for(timeout=10_000)
        assert page.get_by_test_id(f"wh-{dead_id}").get_attribute("data-status") == "dead"
        assert "HTTP 400" in page.get_by_test_id(f"wh-{dead_id}").inner_text()
        page.get_by_test_id("wh-status").select_option("dead")
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url("**status=dead**")
        assert page.get_by_test_id(f"wh-{ok_id}").count() == 0
        page.get_by_test_id(f"resend-{dead_id}").click()
        page.locator(f"[data-testid=wh-{dead_id}][data-status=pending]").wait_for(timeout=10_000)
        deliver_webhooks(factory, utcnow())
        page.goto(f"{srv.url}/webhooks")
        row = page.get_by_test_id(f"wh-{dead_id}")
        row.wait_for(timeout=10_000)
        assert row.get_attribute("data-status") == "delivered"
        assert "resent 1×" in row.inner_text() or "已重发 1 次" in row.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "webhooks-1366x768.png"), full_page=True)
        assert not errors, errors
        context.close()
        keys = [h["idempotency-key"] for h, _b in WebhookReceiver.got]
        assert keys == ["lead:7:created", "lead:8:created", "lead:7:created"], "refused, delivered, resent"
    finally:
        configure(saved.settings, saved.rules)
        receiver.shutdown()
        srv.stop()


def test_kpi_page_labels_its_axes_and_shows_csat_per_device_and_nps(chromium, migrated, make_user):  # noqa: F811
    """GIVEN tickets for three businesses and surveys from two kiosks, two of three answering the 0-10 question
    WHEN a branch manager opens the KPI page in English THEN tickets by business and CSAT per device are charted
    with titled axes, NPS shows (+33.3), and every chart names its axes."""
    import uuid

    from server.app import create_app
    from server.ingest.records import EventRecord
    from server.ingest.service import store_batch
    from server.runner import ServerThread

    engine, factory = migrated
    make_user("bm1", "branch_manager")
    now = utcnow()

    def event(device: str, type_: str, data: dict) -> EventRecord:
        return EventRecord.of(id=str(uuid.uuid4()), branch="b001", device=device, seq=0, type=type_,
                           ts=now - timedelta(minutes=5), data=data)

    with factory() as s, s.begin():
        store_batch(s, [event("k1", "ticket_request", {"request_id": uuid.uuid4().hex, "business": b})
                        for b in ("deposit", "deposit", "card", "wealth")]
                    + [event("k1", "survey", {"score": 5, "nps": 10}),
                       event("k1", "survey", {"score": 4, "nps": 9}),
                       event("k2", "survey", {"score": 2, "nps": 3})], now=now)
    srv = ServerThread(create_app(engine=engine), "127.0.0.1", 0).start()
    try:
        context, page, errors = _sign_in(chromium, srv.url, "bm1", "en-US")
        page.get_by_test_id("lang-en").click()
        page.locator("html[lang=en]").wait_for(state="attached", timeout=10_000)
        page.goto(f"{srv.url}/branches/b001/kpis")
        page.locator("[data-testid=chart-tickets] rect").nth(2).wait_for(timeout=10_000)
        assert page.get_by_test_id("kpi-nps").inner_text() == "33.3"
        tickets = page.get_by_test_id("chart-tickets")
        assert tickets.locator("[data-axis=x]").text_content() == "Business"
        assert tickets.locator("[data-axis=y]").text_content() == "Tickets"
        assert "deposit: 2" in tickets.locator("title").all_text_contents()
        csat = page.get_by_test_id("chart-csat")
        assert csat.locator("[data-axis=y]").text_content() == "Satisfied (%)"
        assert csat.locator("title").all_text_contents() == ["k1: 100%", "k2: 0%"]
        for chart in page.locator("svg.kpi-chart").all():
            assert chart.locator("[data-axis=x]").text_content() and chart.locator("[data-axis=y]").text_content()
        assert page.get_by_test_id("kpi-utilisation").is_visible()
        page.screenshot(path=str(ARTIFACTS / "kpis-1366x768.png"), full_page=True)
        assert not errors, errors
        context.close()
    finally:
        srv.stop()
