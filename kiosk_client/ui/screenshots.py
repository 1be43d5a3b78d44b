"""Render every screen, in both languages and in elder mode, to PNG without a display."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk_client.core.flow import KioskFlow, Timer
from kiosk_client.core.i18n import Lang
from kiosk_client.ui.kiosk import load_branch_for, make_flow
from kiosk_client.ui.theme import apply_font
from kiosk_client.ui.window import KioskWindow
from szconfig.kiosk import KioskConfig
from wire import Component
from wire.messages import FaceReplyData, IssuedTicket, RecognisedCustomer, TicketReplyData


def _business(flow: KioskFlow) -> None:
    flow.take_ticket()


def _identify(flow: KioskFlow) -> None:
    flow.take_ticket()
    flow.choose_business(flow.businesses[0].code)


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


def _thanks(flow: KioskFlow) -> None:
    flow.rate_service()
    flow.submit_survey(5, ["staff"])


SCREENS: dict[str, Callable[[KioskFlow], None]] = {
    "attract": lambda flow: None,
    "business": _business,
    "identify": _identify,
    "consent": _consent,
    "recognise": _recognise,
    "greeting": _greeting,
    "appointment": lambda flow: flow.appointment(),
    "issuing": _issuing,
    "ticket": _ticket,
    "ticket_onscreen": _ticket_on_screen,
    "survey": lambda flow: flow.rate_service(),
    "thanks": _thanks,
    "out_of_service": lambda flow: flow.command("screenshot0001", "out_of_service", {}),
}


def render_screenshots(config: KioskConfig, out_dir: Path, *, size: tuple[int, int] = (1280, 900)) -> list[Path]:
    """One PNG per screen and mode, named `<screen>-<lang>[-elder].png`; returns the paths."""
    app = QApplication.instance() or QApplication([])
    apply_font(app)
    branch = load_branch_for(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    counter = iter(range(1, 10_000))
    for name, setup in SCREENS.items():
        for lang in (Lang.ZH, Lang.EN):
            for elder in (False, True):
                flow = make_flow(config, branch, lambda: f"{config.local_numbers.prefix}-{next(counter):03d}")
                flow.set_online(True)
                setup(flow)
                flow.lang, flow.elder = lang, elder
                window = KioskWindow(flow, lambda *a: None)
                window.resize(*size)
                window.render()
                path = out_dir / f"{name}-{lang}{'-elder' if elder else ''}.png"
                window.grab().save(str(path), "PNG")
                window.deleteLater()
                written.append(path)
    app.processEvents()
    return written
