"""Render every screen, in both languages and in elder mode, to PNG without a display."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk_client.core.flow import KioskFlow, Timer
from kiosk_client.core.i18n import Lang
from kiosk_client.ui.kiosk import load_branch_for, make_flow
from kiosk_client.ui.theme import apply_font
from kiosk_client.ui.window import KioskWindow
from szconfig.kiosk import KioskConfig
from wire import Component
from wire.messages import (
    FaceEnrolReplyData,
    FaceReplyData,
    IssuedTicket,
    QueueCallData,
    RecognisedCustomer,
    Refusal,
    RefusalCode,
    TicketReplyData,
)

# Screens are rendered at fixed moments, never the wall clock: a Monday morning (open), that evening (closed)
# and New Year's Day (a holiday in b001), so that the pictures are the same whenever they are made.
OPEN_AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Mon 10:00 in Shanghai
EVENING = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # Mon 20:00
HOLIDAY = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # Fri 10:00, New Year's Day


def _business(flow: KioskFlow) -> None:
    flow.take_ticket()


def _identify(flow: KioskFlow) -> None:
    flow.take_ticket()
    flow.choose_business(flow.businesses[0].code)


def _card_left(flow: KioskFlow) -> None:
    """The previous customer's card is still in the reader: it is not read; the next customer is asked to take it."""
    _identify(flow)
    flow.card_problem("take_card")


def _issuing(flow: KioskFlow) -> None:
    _identify(flow)
    flow.skip_identification()


def _ticket(flow: KioskFlow) -> None:
    _issuing(flow)
    rid = flow.customer.pending_request
    business = flow.customer.business
    flow.ticket_reply(TicketReplyData(request_id=rid, ticket=IssuedTicket(
        number="A012", ticket_id=12, token="screenshot", business=business, people_ahead=3, wait_p50_min=12.0,
        wait_p90_min=18.0, status_url="/t/screenshot", routed_to="counter", status="waiting")))
    flow.print_result(rid, True)


def _ticket_on_screen(flow: KioskFlow) -> None:
    flow.set_component(Component.PRINTER, False)
    _issuing(flow)
    flow.timer_expired(Timer.REPLY, flow.customer.pending_request)


def _consent(flow: KioskFlow) -> None:
    flow.recognise_me()


def _recognise(flow: KioskFlow) -> None:
    flow.recognise_me()
    flow.consent(True)


def _greeting(flow: KioskFlow) -> None:
    _recognise(flow)
    flow.face_reply(FaceReplyData(request_id=flow.customer.pending_probe, result="matched", customer=RecognisedCustomer(
        customer_ref="c-0000000000000000", masked_name="王*明", usual_business=flow.businesses[-1].code)))


def _ticket_with_card(flow: KioskFlow) -> None:
    flow.take_ticket()
    flow.choose_business(flow.businesses[0].code)
    flow.card_read("bank", "ab" * 32, "622202*********0128")
    rid = flow.customer.pending_request
    flow.ticket_reply(TicketReplyData(request_id=rid, ticket=IssuedTicket(
        number="A012", ticket_id=12, token="screenshot", business=flow.customer.business, people_ahead=3,
        wait_p50_min=12.0, wait_p90_min=18.0, status_url="/t/screenshot", routed_to="counter", status="waiting")))
    flow.print_result(rid, True)


def _enrol_consent(flow: KioskFlow) -> None:
    _ticket_with_card(flow)
    flow.offer_enrolment()


def _enrol_age(flow: KioskFlow) -> None:
    _enrol_consent(flow)
    flow.enrol_consent(True)


def _enrol_start(flow: KioskFlow) -> None:
    _enrol_age(flow)
    flow.enrol_age(True)


def _enrolled(flow: KioskFlow) -> None:
    _enrol_start(flow)
    flow.enrol_start()
    rid = flow.customer.pending_face
    flow.face_embeddings(rid, [[0.1] * 128] * 5)
    flow.face_enrol_reply(FaceEnrolReplyData(request_id=rid, result="enrolled", templates=5, masked_name="王*明"))


def _elderly_ticket(flow: KioskFlow) -> None:
    """A ticket taken in large-text mode that the hub's elderly rule called ahead."""
    flow.elder = True
    _issuing(flow)
    rid = flow.customer.pending_request
    flow.ticket_reply(TicketReplyData(request_id=rid, ticket=IssuedTicket(
        number="A013", ticket_id=13, token="screenshot", business=flow.customer.business, people_ahead=1,
        wait_p50_min=4.0, wait_p90_min=7.0, status_url="/t/screenshot", routed_to="counter", priority=True,
        status="waiting")))
    flow.print_result(rid, True)


def _survey(flow: KioskFlow) -> None:
    now = flow.clock()  # the screenshot's fixed moment
    for n, (ticket, counter) in enumerate((("C011", 1), ("B006", 2), ("A011", 3), ("A012", 1)), start=1):
        flow.call_heard(QueueCallData(ticket=ticket, counter=counter, business="deposit", at=now, ticket_id=n))
    flow.rate_service()
    flow.choose_served("A012")


def _closed(flow: KioskFlow) -> None:
    flow.tick(0.0)  # idle: the calendar says closed


def _checkin_card(flow: KioskFlow) -> None:
    flow.appointment()
    flow.submit_appointment("6789", "")


def _checkin_refused(flow: KioskFlow) -> None:
    flow.appointment()
    flow.submit_appointment("", "K7QX2M")
    flow.ticket_reply(TicketReplyData(request_id=flow.customer.pending_request, refused=Refusal(
        code=RefusalCode.APPOINTMENT_EXPIRED, message="appointment K7QX2M was at 09:00")))


def _nps(flow: KioskFlow) -> None:
    _survey(flow)
    flow.submit_survey(5, ["staff"])


def _thanks(flow: KioskFlow) -> None:
    _nps(flow)
    flow.submit_nps(9)


SCREENS: dict[str, Callable[[KioskFlow], None]] = {
    "attract": lambda flow: None,
    "business": _business,
    "identify": _identify,
    "identify_card_left": _card_left,
    "consent": _consent,
    "recognise": _recognise,
    "greeting": _greeting,
    "appointment": lambda flow: flow.appointment(),
    "issuing": _issuing,
    "ticket": _ticket,
    "ticket_identified": _ticket_with_card,
    "enrol_consent": _enrol_consent,
    "enrol_age": _enrol_age,
    "enrol_start": _enrol_start,
    "enrolled": _enrolled,
    "ticket_onscreen": _ticket_on_screen,
    "ticket_elderly": _elderly_ticket,
    "survey": _survey,
    "nps": _nps,
    "thanks": _thanks,
    "out_of_service": lambda flow: flow.command("screenshot0001", "out_of_service", {}),
    "closed": _closed,
    "closed_holiday": _closed,
    "checkin_card": _checkin_card,
    "checkin_refused": _checkin_refused,
}
CLOCK = {"closed": EVENING, "closed_holiday": HOLIDAY}


def render_screenshots(config: KioskConfig, out_dir: Path, *, size: tuple[int, int] = (1280, 900),
                       only: set[str] | None = None) -> list[Path]:
    """One PNG per screen and mode, named `<screen>-<lang>[-elder].png` (`only`: these screens); returns the paths."""
    app = QApplication.instance() or QApplication([])
    apply_font(app)
    branch = load_branch_for(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    counter = iter(range(1, 10_000))
    for name, setup in SCREENS.items():
        if only is not None and name not in only:
            continue
        for lang in (Lang.ZH, Lang.EN):
            for elder in (False, True):
                flow = make_flow(config, branch, lambda: f"{config.local_numbers.prefix}-{next(counter):03d}")
                flow.clock = lambda name=name: CLOCK.get(name, OPEN_AT)
                flow.set_online(True)
                flow.elder = elder
                setup(flow)
                flow.lang, flow.elder = lang, flow.elder
                window = KioskWindow(flow, lambda *a: None)
                window.resize(*size)
                window.render()
                path = out_dir / f"{name}-{lang}{'-elder' if elder else ''}.png"
                window.grab().save(str(path), "PNG")
                window.deleteLater()
                written.append(path)
    app.processEvents()
    return written
