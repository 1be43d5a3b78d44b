"""The kiosk's customer flow as a pure state machine: no Qt, no broker, no threads."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from kiosk_client.core import flow as f
from kiosk_client.core.board import Board, announcement
from kiosk_client.core.flow import BusinessOption, KioskFlow, Screen, Timer
from kiosk_client.core.i18n import TEXTS, Lang, tr
from kiosk_client.core.masking import mask_name, mask_number
from kiosk_client.core.numbering import Counter, format_number, next_number
from szconfig import load_branches
from tests.open_hours import REAL_CONFIGS
from wire import Component, TopicKind
from wire.messages import (
    BilingualText,
    BoardCall,
    FaceConsentReplyData,
    FaceEnrolReplyData,
    FaceRefusal,
    FaceReplyData,
    IssuedTicket,
    QueueBoardData,
    QueueCallData,
    RecognisedCustomer,
    Refusal,
    TicketReplyData,
)

HASH = "ab" * 32
AT = datetime(2026, 11, 30, 1, 20, tzinfo=UTC)


def ticket_reply(request_id: str, number: str = "A012", *, people_ahead: int = 3, wait: float | None = 9.0,
                 status_url: str = "/t/abc123") -> TicketReplyData:
    """The hub's reply with a ticket, as `ticket_reply` carries it."""
    return TicketReplyData(request_id=request_id, ticket=IssuedTicket(
        number=number, ticket_id=12, token=status_url.removeprefix("/t/"), business="deposit",
        people_ahead=people_ahead, wait_p50_min=wait, wait_p90_min=wait and wait * 1.5, status_url=status_url,
        routed_to="counter", status="waiting"))


def make_flow(**kw) -> KioskFlow:
    ids = (f"id{n:010d}" for n in itertools.count(1))
    numbers = (f"K1-{n:03d}" for n in itertools.count(1))
    return KioskFlow(businesses=[BusinessOption("deposit", "存取款", "Deposits"),
                                 BusinessOption("wealth", "理财", "Wealth")],
                     local_number=lambda: next(numbers), consent_version="face-1", new_id=lambda: next(ids),
                     branch="b001", **kw)


def sent(effects, kind: str) -> list:
    return [e.data for e in effects if isinstance(e, f.Send) and e.message_type.model_fields["type"].default == kind]


def to_issuing(flow: KioskFlow) -> str:
    flow.take_ticket()
    flow.choose_business("deposit")
    flow.skip_identification()
    return flow.customer.pending_request


def test_ticket_flow_with_hub_number():
    """GIVEN a customer WHEN they choose a business, skip identification and the hub answers with a number
    THEN the ticket shows it and is printed."""
    flow = make_flow()
    effects = flow.take_ticket()
    assert flow.screen is Screen.BUSINESS and sent(effects, "visit")[0].phase == "start"
    effects = flow.choose_business("deposit")
    assert flow.screen is Screen.IDENTIFY and f.Identify(True) in effects
    effects = flow.skip_identification()
    req = sent(effects, "ticket_request")[0]
    assert flow.screen is Screen.ISSUING and req.business == "deposit" and req.provisional_number is None
    assert any(isinstance(e, f.StartTimer) and e.timer is Timer.REPLY for e in effects)
    effects = flow.ticket_reply(ticket_reply(req.request_id, "A012", people_ahead=3, wait=8.6))
    ticket = flow.customer.ticket
    assert flow.screen is Screen.TICKET and ticket.number == "A012" and not ticket.provisional
    assert (ticket.people_ahead, ticket.wait_estimate_min) == (3, 9)  # the median, in whole minutes
    assert [e for e in effects if isinstance(e, f.PrintTicket)]


def test_hub_silence_gives_one_provisional_ticket_and_late_reply_is_ignored():
    """GIVEN no answer WHEN the reply timer expires THEN a provisional ticket; a late reply changes nothing."""
    flow = make_flow()
    rid = to_issuing(flow)
    effects = flow.timer_expired(Timer.REPLY, rid)
    assert flow.customer.ticket.number == "K1-001" and sent(effects, "ticket_request")
    assert flow.ticket_reply(ticket_reply(rid, "A099")) == []
    assert flow.customer.ticket.number == "K1-001"
    assert flow.timer_expired(Timer.REPLY, rid) == []


def test_refused_request_returns_to_business_with_reason():
    flow = make_flow()
    rid = to_issuing(flow)
    flow.ticket_reply(TicketReplyData(request_id=rid, refused=Refusal(code="issuing_stopped",
                                                                     message="ticket issuing is paused")))
    assert flow.screen is Screen.BUSINESS and flow.customer.message == "request_refused"
    assert flow.customer.message_args == {"reason": "ticket issuing is paused"}


def test_card_read_identifies_and_requests_ticket_with_customer_ref():
    flow = make_flow()
    flow.take_ticket()
    flow.choose_business("deposit")
    effects = flow.card_read("bank", HASH, "622202*********0128")
    card = sent(effects, "card_read")[0]
    req = sent(effects, "ticket_request")[0]
    assert card.card_hash == HASH and req.customer_ref == HASH and f.Identify(False) in effects


def test_dead_card_reader_offers_other_ways_and_both_dead_skips_identification():
    """GIVEN the card reader is down WHEN identification opens THEN it says so; with no reader at all it is
    skipped."""
    flow = make_flow()
    flow.set_component(Component.CARD_READER, False)
    flow.take_ticket()
    flow.choose_business("deposit")
    assert flow.screen is Screen.IDENTIFY and flow.customer.message == "card_unavailable"
    flow.set_component(Component.ID_READER, False)
    assert flow.screen is Screen.ISSUING
    flow2 = make_flow()
    flow2.set_component(Component.CARD_READER, False)
    flow2.set_component(Component.ID_READER, False)
    flow2.take_ticket()
    flow2.choose_business("deposit")
    assert flow2.screen is Screen.ISSUING


def test_printer_out_of_paper_shows_ticket_on_screen():
    flow = make_flow()
    flow.set_component(Component.PRINTER, False)
    rid = to_issuing(flow)
    effects = flow.ticket_reply(ticket_reply(rid, "A001"))
    assert not [e for e in effects if isinstance(e, f.PrintTicket)]
    assert flow.customer.ticket.printed is False and flow.customer.message == "print_failed"
    assert flow.status_url("A001").startswith("SZTICKET:b001:")


def test_print_failure_after_issue_switches_to_on_screen():
    flow = make_flow()
    rid = to_issuing(flow)
    flow.ticket_reply(ticket_reply(rid, "A001"))
    flow.print_result(rid, False)
    assert flow.customer.ticket.printed is False and flow.customer.message == "print_failed"


def test_idle_timeout_clears_everything_and_ends_the_visit():
    """GIVEN a customer mid-flow in English, elder mode WHEN nobody touches for the idle time THEN home,
    default language, nothing of theirs left, visit ended as abandoned."""
    flow = make_flow(idle_timeout_s=10)
    flow.take_ticket()
    flow.touch(100.0)
    flow.toggle_language()
    flow.toggle_elder()
    assert flow.tick(105.0) == []
    effects = flow.tick(111.0)
    assert flow.screen is Screen.ATTRACT and flow.customer is None
    assert flow.lang is Lang.ZH and not flow.elder
    assert sent(effects, "usage_session")[0].outcome == "abandoned" and sent(effects, "visit")[0].phase == "end"


def test_idle_does_not_interrupt_waiting_for_the_hub():
    flow = make_flow(idle_timeout_s=1)
    to_issuing(flow)
    assert flow.tick(1e9) == [] and flow.screen is Screen.ISSUING


def test_consent_required_before_any_face_probe():
    """GIVEN a customer who taps recognise me WHEN they say no thanks THEN no capture; with yes the probe
    carries the consent version."""
    flow = make_flow()
    flow.recognise_me()
    assert flow.screen is Screen.CONSENT
    effects = flow.consent(False)
    assert flow.screen is Screen.BUSINESS and not [e for e in effects if isinstance(e, f.CaptureFace)]
    assert flow.face_embeddings("whatever0", [[0.0] * 128]) == []
    flow.recognise_me()
    effects = flow.consent(True)
    rid = next(e.request_id for e in effects if isinstance(e, f.CaptureFace))
    probe = sent(flow.face_embeddings(rid, [[0.1] * 128] * 3), "face_probe")[0]
    assert probe.consent_version == "face-1" and len(probe.embeddings) == 3


def _greeted(flow: KioskFlow) -> str:
    flow.recognise_me()
    flow.consent(True)
    rid = flow.customer.pending_probe
    flow.face_reply(FaceReplyData(request_id=rid, result="matched", customer=RecognisedCustomer(
        customer_ref="c-c89b697062ddf063", masked_name="王小明", usual_business="wealth")))
    return rid


def test_greeting_is_a_question_the_customer_confirms():
    """GIVEN a match WHEN the kiosk asks "possibly 王*明 — is this you?" and the customer says yes THEN the hub is
    told (face_confirm), the usual business is suggested and the customer can later withdraw by this match."""
    flow = make_flow()
    rid = _greeted(flow)
    assert flow.screen is Screen.GREETING and flow.customer.greeting_name == "王*明"  # masked again here
    assert "王*明" in tr("greeting_question", Lang.ZH, name=flow.customer.greeting_name)
    effects = flow.answer_greeting(True)
    assert sent(effects, "face_confirm")[0].model_dump() == {"request_id": rid, "confirmed": True,
                                                             "visit_id": flow.customer.visit_id}
    assert flow.screen is Screen.BUSINESS and flow.customer.suggested_business == "wealth"
    assert flow.customer.face_ref == "c-c89b697062ddf063" and flow.can_withdraw


def test_a_declined_greeting_forgets_the_suggestion():
    """GIVEN a match WHEN the customer says "not me" (or goes back) THEN the decline is sent and nothing of the
    suggested customer stays in the session."""
    for leave in (lambda fl: fl.answer_greeting(False), lambda fl: fl.back()):
        flow = make_flow()
        _greeted(flow)
        effects = leave(flow)
        assert sent(effects, "face_confirm")[0].confirmed is False
        c = flow.customer
        assert (c.greeting_name, c.suggested_business, c.face_ref, c.probe_ref) == (None, None, None, None)
        assert flow.screen is Screen.BUSINESS and not flow.can_withdraw


def test_unknown_face_or_timeout_for_probe_means_not_recognised():
    flow = make_flow()
    flow.recognise_me()
    flow.consent(True)
    rid = flow.customer.pending_probe
    flow.face_reply(FaceReplyData(request_id=rid, result="unknown"))
    assert flow.screen is Screen.BUSINESS and flow.customer.message == "not_recognised"
    flow.recognise_me()
    rid = flow.customer.pending_probe
    flow.timer_expired(Timer.PROBE, rid)
    assert flow.screen is Screen.BUSINESS and flow.customer.pending_probe is None


def _ticket_with_card(flow: KioskFlow) -> None:
    flow.take_ticket()
    flow.choose_business("deposit")
    rid = sent(flow.card_read("bank", HASH, "622202*********0128"), "ticket_request")[0].request_id
    flow.ticket_reply(ticket_reply(rid))


def test_no_thanks_keeps_the_same_ticket_and_sends_nothing():
    """GIVEN a customer with a ticket, identified by card WHEN offered enrolment and they say no thanks THEN they
    are back at the same ticket, nothing was captured or sent, and they are not asked again this visit."""
    flow = make_flow()
    _ticket_with_card(flow)
    ticket = flow.customer.ticket
    assert flow.can_enrol and flow.offer_enrolment() == [] and flow.screen is Screen.ENROL_CONSENT
    effects = flow.enrol_consent(False)
    assert effects == [] and flow.screen is Screen.TICKET and flow.customer.ticket is ticket
    assert not flow.can_enrol and flow.offer_enrolment() == []


def test_no_enrolment_offer_without_a_card_or_a_camera():
    flow = make_flow()
    to_issuing(flow)
    flow.ticket_reply(ticket_reply(flow.customer.pending_request))
    assert not flow.can_enrol and flow.offer_enrolment() == [] and not flow.can_withdraw
    flow = make_flow(face_recognition=False)
    _ticket_with_card(flow)
    assert not flow.can_enrol


def test_enrolment_asks_age_then_captures_only_after_start():
    """GIVEN consent WHEN the customer is under 14 THEN nothing is captured (a guardian at the counter); when 14
    or older, the camera starts only on "start", and the good frames go as a face_enrol tied to the card."""
    flow = make_flow()
    _ticket_with_card(flow)
    flow.offer_enrolment()
    flow.enrol_consent(True)
    assert flow.screen is Screen.ENROL_AGE
    assert flow.enrol_age(False) == [] and flow.customer.message == "enrol_under_14"
    assert flow.face_result_done() == [] and flow.screen is Screen.TICKET

    flow = make_flow()
    _ticket_with_card(flow)
    flow.offer_enrolment()
    flow.enrol_consent(True)
    assert not [e for e in flow.enrol_age(True) if isinstance(e, f.CaptureFace)]
    assert flow.screen is Screen.ENROL_START
    (capture,) = [e for e in flow.enrol_start() if isinstance(e, f.CaptureFace)]
    assert capture.frames == f.ENROL_FRAMES and flow.screen is Screen.ENROL_CAPTURE
    assert flow.tick(1e9) == []  # capturing and waiting: no idle reset
    effects = flow.face_embeddings(capture.request_id, [[0.1] * 128] * 7)
    enrol = sent(effects, "face_enrol")[0]
    assert (enrol.card_hash, enrol.card_kind, enrol.consent_version, enrol.age_confirmed, len(enrol.embeddings),
            enrol.visit_id) == (HASH, "bank", "face-1", True, 5, flow.customer.visit_id)
    effects = flow.face_enrol_reply(FaceEnrolReplyData(request_id=capture.request_id, result="enrolled",
                                                       templates=5, masked_name="王*明"))
    (slip,) = [e for e in effects if isinstance(e, f.PrintNote)]
    assert any("撤回" in zh and "Withdraw" in en for zh, en in slip.lines)
    assert flow.screen is Screen.FACE_RESULT and flow.customer.message == "enrolled"
    flow.face_result_done()
    assert flow.screen is Screen.TICKET and flow.customer.ticket.number == "A012"


def test_a_refused_or_unanswered_enrolment_says_so():
    flow = make_flow()
    _ticket_with_card(flow)
    flow.offer_enrolment()
    flow.enrol_consent(True)
    flow.enrol_age(True)
    rid = flow.customer.pending_face if flow.enrol_start() else ""
    flow.face_embeddings(rid, [[0.1] * 128] * 3)
    flow.face_enrol_reply(FaceEnrolReplyData(request_id=rid, result="refused", refused=FaceRefusal(
        code="too_few_embeddings", message=BilingualText(zh="清晰的画面不足", en="not enough clear frames"))))
    assert flow.customer.message == "enrol_refused" and flow.customer.message_args == {"reason": "清晰的画面不足"}
    flow = make_flow()
    _ticket_with_card(flow)
    flow.offer_enrolment()
    flow.enrol_consent(True)
    flow.enrol_age(True)
    rid = flow.customer.pending_face if flow.enrol_start() else ""
    assert flow.face_failed(rid) == [] and flow.customer.message == "enrol_no_face"


def test_withdrawal_by_card_or_by_a_confirmed_match():
    """GIVEN a customer identified by card (or by a match they confirmed) WHEN they tap withdraw THEN a typed
    face_consent names them by the card's hash (or the match's ref) and the reply is shown."""
    flow = make_flow()
    _ticket_with_card(flow)
    effects = flow.withdraw_face()
    consent = sent(effects, "face_consent")[0]
    assert (consent.action, consent.card_hash, consent.customer_ref) == ("withdraw", HASH, None)
    assert flow.screen is Screen.FACE_RESULT and flow.customer.message == "withdrawing"
    assert flow.withdraw_face() == []  # one at a time
    flow.face_consent_reply(FaceConsentReplyData(request_id=consent.request_id, action="withdraw",
                                                 result="withdrawn", deleted_templates=3))
    assert flow.customer.message == "withdrawn"

    flow = make_flow()
    _greeted(flow)
    flow.answer_greeting(True)
    consent = sent(flow.withdraw_face(), "face_consent")[0]
    assert (consent.card_hash, consent.customer_ref) == (None, "c-c89b697062ddf063")
    assert flow.timer_expired(Timer.FACE, consent.request_id) == [] and flow.customer.message == "face_no_answer"


@pytest.mark.parametrize(("phone", "code", "ok"), [("1234", "ab12", True), ("", "AB12", True),
                                                  ("12a4", "", False), ("1234", "A1", False), ("", "", False)])
def test_appointment_typed(phone, code, ok):
    """GIVEN the check-in screen WHEN a code is typed (the phone digits beside it do not matter) THEN it is sent;
    a malformed code, or no code and no four digits, is refused on the screen."""
    flow = make_flow(appointment_business="wealth")
    flow.appointment()
    effects = flow.submit_appointment(phone, code)
    if ok:
        req = sent(effects, "ticket_request")[0]
        assert req.appointment_code == "AB12" and req.business == "wealth" and req.phone_last4 is None
    else:
        assert flow.screen is Screen.APPOINTMENT and flow.customer.message == "appt_invalid"


def test_check_in_by_phone_then_card():
    """GIVEN the check-in screen WHEN only the phone's last four are typed THEN the card reader opens and asks for
    the card; the card read sends both (the hub finds the booking by them); skipping goes back to the codes."""
    flow = make_flow(appointment_business="wealth")
    flow.appointment()
    effects = flow.submit_appointment("6789", "")
    assert f.Identify(True) in effects and flow.screen is Screen.IDENTIFY
    assert flow.customer.message == "appt_insert_card"
    assert flow.skip_identification() and flow.screen is Screen.APPOINTMENT
    flow.submit_appointment("6789", "")
    req = sent(flow.card_read("bank", "ab" * 32, "622848******1234"), "ticket_request")[0]
    assert (req.phone_last4, req.customer_ref, req.appointment_code, req.business) == ("6789", "ab" * 32, None,
                                                                                       "wealth")


@pytest.mark.parametrize("code", ["appointment_unknown", "appointment_early", "appointment_expired",
                                  "appointment_used"])
def test_check_in_refusals_are_shown_on_the_check_in_screen(code):
    """GIVEN a code sent WHEN the hub refuses it THEN back on the check-in screen with that refusal's words, in
    both languages, and nothing printed."""
    flow = make_flow()
    flow.appointment()
    rid = sent(flow.submit_appointment("", "ZZZZ99"), "ticket_request")[0].request_id
    effects = flow.ticket_reply(TicketReplyData(request_id=rid, refused=Refusal(code=code, message="no")))
    assert flow.screen is Screen.APPOINTMENT and flow.customer.message == f"appt_{code.split('_')[1]}"
    assert not [e for e in effects if isinstance(e, f.PrintTicket)] and flow.customer.appointment_code is None
    zh = flow.t(flow.customer.message, early=30)
    flow.toggle_language()
    assert zh != flow.t(flow.customer.message, early=30)


def test_appointment_qr_offline_ticket_claims_no_priority():
    """GIVEN a QR code scanned while the hub does not answer WHEN the kiosk prints its own number THEN it claims
    no priority (only the hub can check a booking) and the follow-up carries the code for the hub to check."""
    flow = make_flow()
    flow.appointment()
    effects = flow.qr_scanned("SZAPPT:Q7K2M9:deposit")
    req = sent(effects, "ticket_request")[0]
    assert (req.appointment_code, req.business) == ("Q7K2M9", "deposit")
    follow = sent(flow.timer_expired(Timer.REPLY, req.request_id), "ticket_request")[0]
    assert not flow.customer.ticket.priority and follow.appointment_code == "Q7K2M9"


def test_closed_refusal_shows_when_the_branch_opens():
    """GIVEN a ticket requested WHEN the hub refuses it as closed with opens_at tomorrow 08:30 THEN the closed
    screen says so in both languages; Home goes back to the start."""
    flow = make_flow(clock=lambda: datetime(2026, 12, 7, 12, 0, tzinfo=UTC))  # 20:00 in Shanghai
    rid = to_issuing(flow)
    opens = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    flow.ticket_reply(TicketReplyData(request_id=rid, refused=Refusal(code="closed", message="closed",
                                                                      opens_at=opens)))
    assert flow.screen is Screen.CLOSED
    head, when = flow.closed_text()
    assert "不办理" in head and when == f"我们将于 明天 {opens.astimezone().strftime('%H:%M')} 开始取号"
    flow.toggle_language()
    assert flow.closed_text()[1].startswith("We open at")
    flow.done()
    assert flow.screen is Screen.ATTRACT  # the calendar is not known here: the hub decides


def test_calendar_closes_the_idle_kiosk_and_opens_it_again():
    """GIVEN a kiosk that knows b001's calendar WHEN idle at 20:00 on a Monday THEN the closed screen shows
    tomorrow's 08:30 and a tap asks for nothing; on New Year's Day it names the holiday; at 08:30 it opens."""
    b001 = load_branches(REAL_CONFIGS / "branches")["b001"]
    now = [datetime(2026, 12, 7, 12, 0, tzinfo=UTC)]
    flow = make_flow(hours=b001, clock=lambda: now[0])
    flow.tick(0.0)
    assert flow.screen is Screen.CLOSED and flow.closed_text()[1] == "我们将于 明天 08:30 开始取号"
    assert sent(flow.take_ticket(), "ticket_request") == [] and flow.customer is None
    flow.toggle_language()
    assert flow.closed_text()[1] == "We open at 08:30 tomorrow"
    now[0] = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    flow.tick(1.0)
    assert flow.closed_text()[0] == "Closed for New Year's Day"
    now[0] = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    flow.tick(2.0)
    assert flow.screen is Screen.ATTRACT
    flow.take_ticket()
    assert flow.screen is Screen.BUSINESS


def test_survey_is_sent_as_touchpoint():
    flow = make_flow()
    flow.rate_service()
    effects = flow.submit_survey(4, ["wait", "bogus", "wait"])
    assert sent(effects, "survey") == [] and flow.screen is Screen.NPS  # held for the optional 0–10 question
    effects = flow.submit_nps(None)  # skipped
    survey = sent(effects, "survey")[0]
    assert survey.score == 4 and survey.tags == ["wait"] and survey.nps is None and flow.screen is Screen.THANKS
    assert flow.submit_survey(9) == [] and flow.submit_nps(3) == []


def test_remote_commands():
    flow = make_flow()
    flow.take_ticket()
    effects = flow.command("cmd0000001", "out_of_service", {})
    result = [e for e in effects if isinstance(e, f.Send) and e.topic_kind is TopicKind.COMMAND_RESULT]
    assert flow.screen is Screen.OUT_OF_SERVICE and result[0].data.status == "ok" and flow.customer is None
    assert flow.take_ticket() == [] and flow.screen is Screen.OUT_OF_SERVICE
    flow.command("cmd0000002", "in_service", {})
    assert flow.screen is Screen.ATTRACT
    assert flow.command("cmd0000003", "self_destruct", {})[0].data.status == "refused"
    assert flow.command("cmd0000004", "print_test", {}, expired=True)[0].data.status == "expired"
    assert isinstance(flow.command("cmd0000005", "diagnostics", {})[0], f.RunCommand)


def test_elder_mode_speaks_prompts_in_current_language():
    flow = make_flow()
    effects = flow.toggle_elder()
    assert effects == [f.Speak(tr("touch_to_start", Lang.ZH), Lang.ZH)]
    effects = flow.toggle_language()
    assert effects[0].lang is Lang.EN


def test_every_text_has_both_languages():
    assert all(zh and en for zh, en in TEXTS.values())
    assert tr("people_ahead", "en", n=3) == "3 people ahead of you"
    assert tr("people_ahead", "en", n=1) == "1 person ahead of you" and tr("people_ahead", "zh", n=1) == "前面还有 1 人"
    assert tr("no_such_key", "zh") == "no_such_key"


@pytest.mark.parametrize(("name", "masked"), [("王小明", "王*明"), ("王明", "王*"), ("欧阳小明", "欧**明"),
                                              ("John Smith", "J*** S****"), ("王*明", "王*明")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_number():
    assert mask_number("13812345678", tail=4) == "*******5678"


def test_local_numbers_restart_daily_and_wrap():
    d1, d2 = date(2026, 1, 1), date(2026, 1, 2)
    n, c = next_number(Counter(date.min, None), d1, first=1, last=3)
    assert n == 1
    n, c = next_number(c, d1, first=1, last=3)
    n, c = next_number(c, d1, first=1, last=3)
    assert n == 3
    assert next_number(c, d1, first=1, last=3)[0] == 1
    assert next_number(c, d2, first=1, last=3)[0] == 1
    assert format_number("K3", 17, 999) == "K3-017"


def test_no_wait_estimate_is_shown_as_unknown():
    """GIVEN a hub with no estimate yet (no service history) WHEN the ticket is shown THEN it says how many are
    ahead and no wait time (never "0 minutes")."""
    flow = make_flow(language=Lang.EN)
    rid = to_issuing(flow)
    flow.ticket_reply(ticket_reply(rid, people_ahead=0, wait=None))
    assert flow.customer.ticket.wait_estimate_min is None
    assert flow._wait_text(flow.customer.ticket) == "Nobody ahead of you: listen for your number"


def test_board_model_and_announcement():
    board = Board(keep=3)
    board.apply_board(QueueBoardData(branch="b001", updated_at=AT, waiting={"deposit": 4}, calls=[
        BoardCall(ticket="A001", counter=2, business="deposit", at=AT),
        BoardCall(ticket="A002", business="deposit", at=AT)]))  # no counter: not shown
    board.apply_call(QueueCallData(ticket="B002", counter=3, business="card", at=AT))
    board.apply_call(QueueCallData(ticket="A001", counter=2, business="deposit", at=AT, recall=True))
    assert [c.ticket for c in board.calls] == ["A001", "B002"] and board.waiting == {"deposit": 4}
    assert announcement(board.current) == ("请 A001 号到 2 号窗口", "Ticket A001, please go to counter 2")


def test_qr_links_to_the_hubs_ticket_page():
    """GIVEN the queueing reply with a status page WHEN the ticket is shown THEN its QR code links to
    <ticket_page_base>/t/<token>; a status_url that is no such path is refused by the contract."""
    flow = make_flow()
    flow.ticket_page_base = "http://branch.example:8000/"
    rid = to_issuing(flow)
    flow.ticket_reply(ticket_reply(rid, "A007", people_ahead=2, wait=6.0, status_url="/t/abc123"))
    t = flow.customer.ticket
    assert (t.number, t.people_ahead, t.wait_estimate_min) == ("A007", 2, 6)
    assert flow.status_url(t.number, t.status_path) == "http://branch.example:8000/t/abc123"
    with pytest.raises(ValidationError):  # the contract refuses anything but a status page path
        ticket_reply(rid, "A008", status_url="javascript:alert(1)")
