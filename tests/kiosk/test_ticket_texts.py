"""What the customer reads: the kind of priority, the P50–P90 wait on screen and receipt, the NPS question."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hardware.printer.receipt import TicketReceipt, ticket_bytes, wait_line
from kiosk_client.core.flow import Screen, Timer
from kiosk_client.core.i18n import Lang
from kiosk_client.core.ticket import PriorityKind, Ticket
from tests.kiosk.test_flow import make_flow, sent, ticket_reply, to_issuing
from wire.messages import IssuedTicket, QueueCallData, TicketReplyData


def reply(request_id: str, *, priority: bool, routed_to: str = "counter", p50: float | None = 5.2,
          p90: float | None = 9.4) -> TicketReplyData:
    return TicketReplyData(request_id=request_id, ticket=IssuedTicket(
        number="A013", ticket_id=13, token="tok", business="deposit", people_ahead=1, wait_p50_min=p50,
        wait_p90_min=p90, status_url="/t/tok", routed_to=routed_to, priority=priority, status="waiting"))


@pytest.mark.parametrize(("elder", "appointment", "priority", "routed_to", "kind", "zh", "en"), [
    (True, False, True, "counter", PriorityKind.ELDERLY, "敬老优先", "Priority: senior customer"),
    (False, True, True, "wealth", PriorityKind.APPOINTMENT, "预约优先", "Priority: appointment"),
    (False, False, True, "vip", PriorityKind.VIP, "贵宾优先", "Priority: VIP"),
    (False, False, True, "counter", PriorityKind.OTHER, "优先服务", "Priority"),
    (True, False, False, "counter", None, "敬老服务", "Senior service"),
    (False, False, False, "counter", None, "", ""),
])
def test_each_kind_of_priority_has_its_own_label(elder, appointment, priority, routed_to, kind, zh, en):
    """GIVEN a hub ticket called ahead for a reason WHEN shown THEN the label names that reason in zh and en
    (an elderly customer's ticket is never labelled an appointment)."""
    flow = make_flow(elder_mode=elder)
    if appointment:
        flow.appointment()
        flow.qr_scanned("SZAPPT:Q7K2M9:deposit")
    else:
        to_issuing(flow)
    flow.ticket_reply(reply(flow.customer.pending_request, priority=priority, routed_to=routed_to))
    ticket = flow.customer.ticket
    assert ticket.kind == kind
    assert (flow.priority_label(ticket, Lang.ZH), flow.priority_label(ticket, Lang.EN)) == (zh, en)


def test_a_provisional_ticket_of_an_elderly_customer_is_not_an_appointment():
    flow = make_flow(elder_mode=True)
    rid = to_issuing(flow)
    flow.timer_expired(Timer.REPLY, rid)
    assert flow.customer.ticket.provisional and flow.priority_label(flow.customer.ticket) == "敬老服务"


@pytest.mark.parametrize(("p50", "p90", "zh", "en"), [
    (5.2, 9.4, "预计等待 5–9 分钟", "About 5–9 minutes"),
    (5.2, 5.4, "预计等待约 5 分钟", "About 5 minutes"),
    (5.2, None, "预计等待约 5 分钟", "About 5 minutes"),
    (None, None, "", ""),
])
def test_the_wait_is_the_p50_p90_range(p50, p90, zh, en):
    flow = make_flow()
    flow.ticket_reply(reply(to_issuing(flow), priority=False, p50=p50, p90=p90))
    ticket = flow.customer.ticket
    assert flow.wait_text(ticket) == zh
    flow.toggle_language()
    assert flow.wait_text(ticket) == en


def test_the_receipt_prints_the_range_and_the_kind_of_priority():
    """GIVEN a receipt with a P50–P90 wait and a priority note THEN its GB18030 bytes say both."""
    receipt = TicketReceipt(branch_name="青山县支行", ticket_number="A013", business_type="存取款", people_ahead=1,
                            estimated_wait_min=5, estimated_wait_max_min=9, issued_at=datetime(2026, 12, 6, 9, 30),
                            status_url="http://127.0.0.1:8000/t/tok", note="敬老优先 Priority: senior customer")
    data = ticket_bytes(receipt)
    assert "预计等待 Estimated wait: 5–9 分钟 / 5–9 min".encode("gb18030") in data
    assert "敬老优先 Priority: senior customer".encode("gb18030") in data
    assert wait_line(5, 5) == "预计等待 Estimated wait: 约 5 分钟 / about 5 min"
    assert "listen" in wait_line(None, None)  # no estimate: no promise, never "0 minutes"


def test_ticket_range_never_inverts():
    t = Ticket(request_id="r", business="deposit", number="A1", wait_estimate_min=8, wait_p90_min=6)
    assert t.wait_range == (8, 8)


def test_survey_is_tied_to_the_called_ticket_the_customer_picks_and_carries_nps():
    """GIVEN calls heard from the branch WHEN the customer picks theirs, gives 4 stars and 9 THEN one survey
    carries the ticket, its id, the counter that served it and the NPS."""
    flow = make_flow()
    now = datetime.now(UTC)
    for n in range(1, 7):
        flow.call_heard(QueueCallData(ticket=f"A{n:03d}", counter=n % 3 + 1, business="deposit", at=now,
                                      ticket_id=100 + n))
    assert [c.ticket for c in flow.recent_calls] == ["A006", "A005", "A004", "A003"]  # the last four
    flow.rate_service()
    flow.choose_served("A004")
    flow.choose_served("A999")  # not offered: nothing picked
    assert flow.customer.served is None
    flow.choose_served("A004")
    flow.submit_survey(4, ["staff"])
    (survey,) = sent(flow.submit_nps(9), "survey")
    assert (survey.score, survey.nps, survey.ticket, survey.ticket_id, survey.counter) == (4, 9, "A004", 104, 2)
    assert flow.submit_nps(11) == []


def test_stars_given_and_the_nps_question_left_are_still_sent():
    """GIVEN stars submitted WHEN the customer walks away from the 0–10 question THEN the survey is sent once."""
    flow = make_flow(idle_timeout_s=10)
    flow.rate_service()
    flow.touch(0)
    flow.submit_survey(5)
    assert flow.screen is Screen.NPS
    effects = flow.tick(100)
    (survey,) = sent(effects, "survey")
    assert survey.score == 5 and survey.nps is None and flow.screen is Screen.ATTRACT
    assert sent(effects, "usage_session")[0].outcome == "ok"


def test_a_ticket_taken_in_this_visit_names_itself_in_the_survey():
    flow = make_flow()
    flow.ticket_reply(ticket_reply(to_issuing(flow)))
    flow.screen = Screen.SURVEY  # the survey reached from the ticket's visit
    flow.submit_survey(3)
    (survey,) = sent(flow.submit_nps(0), "survey")
    assert (survey.ticket, survey.ticket_id, survey.nps) == ("A012", 12, 0)
