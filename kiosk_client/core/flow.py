"""The customer flow as a pure state machine: events in, effects out. No Qt, no I/O, no clock of its own.

The composition root feeds it events (taps, card reads, hub replies, timer expiries, component
status) and carries out the effects it returns (send an event, print, start a timer, speak).
Screens only render `KioskFlow`'s state, so every flow is testable without a GUI.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from kiosk_client.core.i18n import TAGS, Lang, tr
from kiosk_client.core.masking import mask_name
from kiosk_client.core.ticket import Ticket
from szconfig import calendar
from szconfig.branch import BranchConfig
from wire import Component, Outcome, TopicKind
from wire.ids import ID_PATTERN
from wire.messages import (
    CardReadData,
    CardReadMessage,
    CommandResultData,
    CommandResultMessage,
    FaceConfirmData,
    FaceConfirmMessage,
    FaceConsentData,
    FaceConsentMessage,
    FaceConsentReplyData,
    FaceEnrolData,
    FaceEnrolMessage,
    FaceEnrolReplyData,
    FaceProbeData,
    FaceProbeMessage,
    FaceReplyData,
    QueueCallData,
    RefusalCode,
    SurveyData,
    SurveyMessage,
    TicketReplyData,
    TicketRequestData,
    TicketRequestMessage,
    UsageSessionData,
    UsageSessionMessage,
    VisitData,
    VisitMessage,
)


class Screen(StrEnum):
    ATTRACT = "attract"
    BUSINESS = "business"
    IDENTIFY = "identify"
    CONSENT = "consent"
    RECOGNISE = "recognise"
    GREETING = "greeting"
    APPOINTMENT = "appointment"
    ISSUING = "issuing"
    TICKET = "ticket"
    SURVEY = "survey"
    NPS = "nps"
    THANKS = "thanks"
    OUT_OF_SERVICE = "out_of_service"
    CLOSED = "closed"  # outside the branch's issuing hours: "closed, we open at …"
    # face opt-in (after the ticket; the ticket is the same whether the customer enrols or not)
    ENROL_CONSENT = "enrol_consent"
    ENROL_AGE = "enrol_age"
    ENROL_START = "enrol_start"
    ENROL_CAPTURE = "enrol_capture"
    FACE_RESULT = "face_result"


class Timer(StrEnum):
    REPLY = "reply"
    PROBE = "probe"
    FACE = "face"  # an enrolment's or a consent change's reply


# --- effects: what the composition root must do ------------------------------------------------

@dataclass(frozen=True, slots=True)
class Send:
    """Queue a message for the hub (outbox first)."""

    message_type: type
    data: Any
    topic_kind: TopicKind = TopicKind.EVENT


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer: Timer
    key: str
    seconds: float


@dataclass(frozen=True, slots=True)
class PrintTicket:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Identify:
    """Open (True) or close (False) the card reader's shutter and watch the ID reader."""

    active: bool


@dataclass(frozen=True, slots=True)
class CaptureFace:
    request_id: str
    frames: int = 3  # an enrolment asks for more, so enough pass the quality gates


@dataclass(frozen=True, slots=True)
class PrintNote:
    """A slip without a queue number (how to withdraw face recognition): (zh, en) line pairs."""

    title: tuple[str, str]
    lines: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ScanQr:
    active: bool


@dataclass(frozen=True, slots=True)
class Speak:
    text: str
    lang: Lang


@dataclass(frozen=True, slots=True)
class RunCommand:
    """A remote command the flow cannot carry out itself (print test page, diagnostics, reload)."""

    command_id: str
    name: str
    args: dict[str, Any]


Effect = Send | StartTimer | PrintTicket | PrintNote | Identify | CaptureFace | ScanQr | Speak | RunCommand

FACE_FUNCTION = "face_recognition"
ENROL_FRAMES = 8  # captured for an enrolment; the good ones (at most 5) are sent
APPT_QR = re.compile(rf"^(?:SZAPPT:)?([0-9A-Z]{{4,12}})(?::({ID_PATTERN[1:-1]}))?$")
APPT_CODE = re.compile(r"^[0-9A-Z]{4,12}$")
COMMANDS = {"out_of_service", "in_service", "reload_config", "print_test", "diagnostics"}
RECENT_CALLS = 4  # called tickets the survey offers ("which was yours?")
# Screens that return home sooner than the general idle timeout, as a fraction of it.
SHORT_SCREENS = {Screen.THANKS: 0.15, Screen.GREETING: 0.5, Screen.CLOSED: 0.5}
ENROL_SCREENS = frozenset({Screen.ENROL_CONSENT, Screen.ENROL_AGE, Screen.ENROL_START, Screen.ENROL_CAPTURE,
                           Screen.FACE_RESULT})
# Refusals of a check-in: the customer stays on the check-in screen with the reason in their language.
APPOINTMENT_REFUSALS = {RefusalCode.APPOINTMENT_UNKNOWN: "appt_unknown", RefusalCode.APPOINTMENT_EARLY: "appt_early",
                        RefusalCode.APPOINTMENT_EXPIRED: "appt_expired", RefusalCode.APPOINTMENT_USED: "appt_used"}


@dataclass(frozen=True, slots=True)
class ClosedNotice:
    """Why the kiosk does not issue now (the hub's refusal, or the branch calendar), for the closed screen."""

    last_ticket: bool = False  # today's last ticket time has passed (else: closed)
    opens_at: datetime | None = None
    holiday: tuple[str, str] | None = None  # (zh, en) name of today's holiday


@dataclass(frozen=True, slots=True)
class BusinessOption:
    code: str
    zh: str
    en: str

    def name(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


@dataclass(frozen=True, slots=True)
class HeardCall:
    """A ticket the branch called (from `queue/call`): what a survey is tied to."""

    ticket: str
    counter: int
    ticket_id: int | None = None


@dataclass
class Customer:
    """Everything about the person in front of the kiosk; dropped whole on idle or home."""

    visit_id: str
    started_at: datetime
    business: str | None = None
    customer_ref: str | None = None
    card_kind: str | None = None
    masked_id: str | None = None
    greeting_name: str | None = None
    suggested_business: str | None = None
    appointment_code: str | None = None
    phone_last4: str | None = None  # check-in by phone's last four digits: the card read next identifies them
    ticket: Ticket | None = None
    pending_request: str | None = None
    pending_probe: str | None = None
    consented: bool = False
    message: str | None = None
    message_args: dict[str, Any] = field(default_factory=dict)
    came_for: Screen | None = None
    served: HeardCall | None = None  # the ticket the survey is about, if the customer picked it
    survey: SurveyData | None = None  # the stars, held until the NPS question is answered or skipped
    probe_ref: str | None = None  # the pseudonymous ref the hub suggested (c-…), until the customer answers
    last_probe: str | None = None
    face_ref: str | None = None  # the suggestion the customer confirmed: identifies them for a withdrawal
    pending_face: str | None = None  # an enrolment's capture or reply, or a consent change's reply
    face_offered: bool = False


@dataclass
class Components:
    card_reader: bool = True
    id_reader: bool = True
    printer: bool = True
    camera: bool = True

    @property
    def can_identify(self) -> bool:
        return self.card_reader or self.id_reader


class KioskFlow:
    """One kiosk's customer flow; every public method returns the effects to carry out."""

    def __init__(self, *, businesses: Iterable[BusinessOption], local_number: Callable[[], str],
                 consent_version: str, language: Lang = Lang.ZH, elder_mode: bool = False,
                 reply_timeout_s: float = 3.0, idle_timeout_s: float = 60.0,
                 appointment_business: str = "wealth", face_recognition: bool = True,
                 branch_name: tuple[str, str] = ("", ""), alternative: tuple[str, str] = ("", ""),
                 status_url: str = "", branch: str = "", ticket_page_base: str = "",
                 hours: BranchConfig | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex):
        self.businesses = list(businesses)
        self.local_number = local_number
        self.consent_version = consent_version
        self.default_language = Lang(language)
        self.default_elder = elder_mode
        self.reply_timeout_s = reply_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.appointment_business = appointment_business
        self.face_recognition = face_recognition
        self.branch_name = branch_name
        self.alternative = alternative
        self.status_url_template = status_url
        self.ticket_page_base = ticket_page_base
        self.branch = branch
        self.hours = hours  # the branch's calendar, when the kiosk knows it: closed screen while idle
        self.closed: ClosedNotice | None = None
        self.clock = clock
        self.new_id = new_id
        self.screen = Screen.ATTRACT
        self.lang = self.default_language
        self.elder = elder_mode
        self.customer: Customer | None = None
        self.components = Components()
        self.online = False
        self.in_service = True
        self.out_of_service_note: tuple[str, str] | None = None
        self.last_touch = 0.0
        self.recent_calls: list[HeardCall] = []  # newest first

    # --- helpers --------------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return tr(key, self.lang, **values)

    def business_option(self, code: str | None) -> BusinessOption | None:
        return next((b for b in self.businesses if b.code == code), None)

    @property
    def branch_label(self) -> str:
        return self.branch_name[0] if self.lang is Lang.ZH else self.branch_name[1]

    def status_url(self, number: str, status_path: str | None = None) -> str:
        """What the on-screen QR code of a ticket links to (the printed ticket has the same).

        The hub's ticket page (`/t/<token>`) when it gave one; else the configured template.
        """
        if status_path and self.ticket_page_base:
            return self.ticket_page_base.rstrip("/") + status_path
        if not self.status_url_template:
            return f"SZTICKET:{self.branch}:{number}"
        return self.status_url_template.format(branch=self.branch, number=number)

    @property
    def face_available(self) -> bool:
        return self.face_recognition and self.components.camera

    def _go(self, screen: Screen, message: str | None = None, **args: Any) -> list[Effect]:
        self.screen = screen
        if self.customer is not None:
            self.customer.message, self.customer.message_args = message, args
        return self._prompt()

    def _prompt(self) -> list[Effect]:
        """In elder mode every screen's prompt is spoken."""
        if not self.elder:
            return []
        key = {Screen.ATTRACT: "touch_to_start", Screen.BUSINESS: "choose_business",
               Screen.IDENTIFY: "identify_title", Screen.CONSENT: "consent_title",
               Screen.RECOGNISE: "look_at_camera", Screen.APPOINTMENT: "appt_scan",
               Screen.ISSUING: "issuing", Screen.SURVEY: "survey_title", Screen.NPS: "nps_title",
               Screen.THANKS: "thanks",
               Screen.OUT_OF_SERVICE: "out_of_service", Screen.CLOSED: "closed_title",
               Screen.ENROL_CONSENT: "enrol_title", Screen.ENROL_AGE: "enrol_age_title",
               Screen.ENROL_START: "enrol_start_title", Screen.ENROL_CAPTURE: "look_at_camera"}.get(self.screen)
        text = self.t(key) if key else ""
        c = self.customer
        if self.screen is Screen.TICKET and c and c.ticket:
            text = f"{self.t('your_number')} {c.ticket.number}. " + self._wait_text(c.ticket)
        elif self.screen is Screen.GREETING and c and c.greeting_name:
            text = self.t("greeting_question", name=c.greeting_name)
        if self.screen is Screen.CLOSED:
            text = " ".join(self.closed_text())
        if c and c.message:
            text = self.t(c.message, **c.message_args)
        return [Speak(text, self.lang)] if text else []

    def _wait_text(self, ticket: Ticket) -> str:
        parts = []
        if ticket.people_ahead is not None:
            parts.append(self.t("people_ahead", n=ticket.people_ahead))
        if ticket.wait_range is not None:
            parts.append(self.wait_text(ticket))
        return "，".join(parts) if self.lang is Lang.ZH else ", ".join(parts) or self.t("wait_unknown")

    def wait_text(self, ticket: Ticket) -> str:
        """`About 5–9 minutes` (the hub's P50–P90), `About 5 minutes` when they agree, `` when unknown."""
        if ticket.wait_range is None:
            return ""
        low, high = ticket.wait_range
        return self.t("wait_range", low=low, high=high) if high > low else self.t("wait_about", m=low)

    def priority_label(self, ticket: Ticket, lang: Lang | None = None) -> str:
        """What the ticket says about its place: the kind of priority, or the senior service of elder mode."""
        key = f"priority_{ticket.kind}" if ticket.kind is not None else "elderly_priority" if ticket.elderly else ""
        return tr(key, lang or self.lang) if key else ""

    def _begin(self, came_for: Screen) -> list[Effect]:
        if self.customer is not None:
            return []
        self.customer = Customer(visit_id=self.new_id(), started_at=self.clock(), came_for=came_for)
        return [Send(VisitMessage, VisitData(visit_id=self.customer.visit_id, phase="start"))]

    # --- taps -----------------------------------------------------------------------------------

    def touch(self, now: float) -> None:
        self.last_touch = now

    def take_ticket(self) -> list[Effect]:
        if not self.in_service:
            return []
        if self._closed_now():
            return self._go(Screen.CLOSED)
        return self._begin(Screen.BUSINESS) + self._go(Screen.BUSINESS)

    def choose_business(self, code: str) -> list[Effect]:
        if self.customer is None or self.business_option(code) is None or self.screen is not Screen.BUSINESS:
            return []
        self.customer.business = code
        if self.customer.customer_ref is None and self.components.can_identify:
            msg = None if self.components.card_reader else "card_unavailable"
            return [Identify(True), *self._go(Screen.IDENTIFY, msg)]
        return self._request_ticket()

    def skip_identification(self) -> list[Effect]:
        if self.screen is not Screen.IDENTIFY:
            return []
        if self.customer and self.customer.phone_last4:  # a check-in by phone needs the card: back to the codes
            self.customer.phone_last4 = None
            return [Identify(False), ScanQr(self.components.camera), *self._go(Screen.APPOINTMENT)]
        return [Identify(False), *self._request_ticket()]

    def appointment(self) -> list[Effect]:
        if not self.in_service:
            return []
        if self._closed_now():
            return self._go(Screen.CLOSED)
        effects = self._begin(Screen.APPOINTMENT)
        return [*effects, ScanQr(self.components.camera), *self._go(Screen.APPOINTMENT)]

    def submit_appointment(self, phone_last4: str, code: str) -> list[Effect]:
        """Check in by the booking's code; or by the phone's last four digits, then the customer's card."""
        code = code.strip().upper()
        c = self.customer
        if self.screen is not Screen.APPOINTMENT or c is None:
            return []
        if code:
            if not APPT_CODE.match(code):
                return self._go(Screen.APPOINTMENT, "appt_invalid")
            return self._check_in(code, self.appointment_business)
        if not (len(phone_last4) == 4 and phone_last4.isdigit()):
            return self._go(Screen.APPOINTMENT, "appt_invalid")
        if not self.components.card_reader:
            return self._go(Screen.APPOINTMENT, "appt_card_unavailable")
        c.phone_last4, c.business, c.appointment_code = phone_last4, self.appointment_business, None
        return [ScanQr(False), Identify(True), *self._go(Screen.IDENTIFY, "appt_insert_card")]

    def qr_scanned(self, payload: str) -> list[Effect]:
        if self.screen is not Screen.APPOINTMENT or self.customer is None:
            return []
        m = APPT_QR.match(payload.strip())
        if not m:
            return self._go(Screen.APPOINTMENT, "appt_invalid")
        business = m.group(2) if self.business_option(m.group(2)) else self.appointment_business
        return self._check_in(m.group(1), business)

    def _check_in(self, code: str, business: str) -> list[Effect]:
        assert self.customer is not None
        self.customer.appointment_code = code
        self.customer.business = business
        return [ScanQr(False), *self._request_ticket()]

    def recognise_me(self) -> list[Effect]:
        if not self.in_service or not self.face_available:
            return []
        effects = self._begin(Screen.BUSINESS)
        c = self.customer
        assert c is not None
        if c.consented:
            return effects + self._capture()
        return effects + self._go(Screen.CONSENT)

    def consent(self, agree: bool) -> list[Effect]:
        if self.screen is not Screen.CONSENT or self.customer is None:
            return []
        if not agree:
            return self._go(Screen.BUSINESS)
        self.customer.consented = True
        return self._capture()

    def _capture(self) -> list[Effect]:
        assert self.customer is not None
        rid = self.new_id()
        self.customer.pending_probe = rid
        return [CaptureFace(rid), *self._go(Screen.RECOGNISE)]

    def answer_greeting(self, confirmed: bool) -> list[Effect]:
        """"Possibly 王*明 — is this you?": the answer goes to the hub; only a yes makes it a match for staff."""
        c = self.customer
        if self.screen is not Screen.GREETING or c is None or c.last_probe is None:
            return []
        send = Send(FaceConfirmMessage, FaceConfirmData(request_id=c.last_probe, confirmed=confirmed,
                                                        visit_id=c.visit_id))
        if confirmed:
            c.face_ref = c.probe_ref
        else:
            c.greeting_name = c.suggested_business = c.probe_ref = None
        return [send, *self._go(Screen.BUSINESS)]

    def rate_service(self) -> list[Effect]:
        if not self.in_service:
            return []
        return self._begin(Screen.SURVEY) + self._go(Screen.SURVEY)

    def choose_served(self, ticket: str) -> list[Effect]:
        """The customer picks the called ticket that was theirs (again: unpicks it); the survey is tied to it."""
        c = self.customer
        if self.screen is not Screen.SURVEY or c is None:
            return []
        call = next((x for x in self.recent_calls if x.ticket == ticket), None)
        c.served = None if call is None or c.served == call else call
        return []

    def submit_survey(self, score: int, tags: Iterable[str] = ()) -> list[Effect]:
        """The stars (and tags): held while the optional 0–10 question is asked; sent whatever the answer."""
        c = self.customer
        if self.screen is not Screen.SURVEY or c is None or not 1 <= score <= 5:
            return []
        own = c.ticket
        served = c.served
        c.survey = SurveyData(
            score=score, tags=[t for t in dict.fromkeys(tags) if t in TAGS],
            ticket=served.ticket if served else own.number if own else None,
            ticket_id=served.ticket_id if served else own.ticket_id if own else None,
            counter=served.counter if served else None, visit_id=c.visit_id, customer_ref=c.customer_ref)
        return self._go(Screen.NPS)

    def submit_nps(self, nps: int | None) -> list[Effect]:
        """How likely to recommend us, 0–10, or None (skipped): the survey goes now, with or without it."""
        c = self.customer
        if self.screen is not Screen.NPS or c is None or c.survey is None or (nps is not None and not 0 <= nps <= 10):
            return []
        return [*self._send_survey(nps), *self._go(Screen.THANKS)]

    def _send_survey(self, nps: int | None = None) -> list[Effect]:
        c = self.customer
        if c is None or c.survey is None:
            return []
        data = c.survey.model_copy(update={"nps": nps})
        c.survey = None
        return [Send(SurveyMessage, data)]

    def call_heard(self, data: QueueCallData) -> list[Effect]:
        """A ticket called in the branch: the survey offers the last few."""
        call = HeardCall(data.ticket, data.counter, data.ticket_id)
        self.recent_calls = [call, *[x for x in self.recent_calls if x.ticket != call.ticket]][:RECENT_CALLS]
        return []

    def done(self) -> list[Effect]:
        """The customer is finished (ticket taken, thanks read): back to the attract screen."""
        return self.home()

    def toggle_language(self) -> list[Effect]:
        self.lang = self.lang.other
        return self._prompt()

    def toggle_elder(self) -> list[Effect]:
        self.elder = not self.elder
        return self._prompt()

    def back(self) -> list[Effect]:
        """One step back; from the first step of a flow, home."""
        if self.screen is Screen.IDENTIFY and self.customer and self.customer.phone_last4:
            return self.skip_identification()
        if self.screen is Screen.IDENTIFY:
            return [Identify(False), *self._go(Screen.BUSINESS)]
        if self.screen is Screen.GREETING and self.customer:
            return self.answer_greeting(False)  # leaving the question is no "yes"
        if self.screen is Screen.CONSENT and self.customer:
            return self._go(Screen.BUSINESS)
        if self.screen in ENROL_SCREENS and self.customer and not self.customer.pending_face:
            return self._after_face()
        if self.screen is Screen.APPOINTMENT:
            return [ScanQr(False), *self.home()]
        return self.home()

    # --- peripherals ----------------------------------------------------------------------------

    def card_read(self, card_kind: str, card_hash: str, masked: str) -> list[Effect]:
        c = self.customer
        if self.screen is not Screen.IDENTIFY or c is None:
            return []
        c.customer_ref, c.masked_id, c.card_kind = card_hash, masked, card_kind
        data = CardReadData(card_kind=card_kind, card_hash=card_hash, masked=masked, visit_id=c.visit_id)
        return [Send(CardReadMessage, data), Identify(False), *self._request_ticket()]

    def card_problem(self, message: str = "card_unreadable") -> list[Effect]:
        if self.screen is not Screen.IDENTIFY:
            return []
        return self._go(Screen.IDENTIFY, message)

    def set_component(self, component: Component, available: bool) -> list[Effect]:
        name = {Component.CARD_READER: "card_reader", Component.ID_READER: "id_reader",
                Component.PRINTER: "printer", Component.CAMERA: "camera"}.get(component)
        if name is None or getattr(self.components, name) == available:
            return []
        setattr(self.components, name, available)
        if self.screen is Screen.IDENTIFY and self.customer:
            if not self.components.can_identify:
                return [Identify(False), *self._request_ticket()]
            if component is Component.CARD_READER and not available:
                return self._go(Screen.IDENTIFY, "card_unavailable")
        return []

    def set_online(self, online: bool) -> None:
        self.online = online

    # --- tickets --------------------------------------------------------------------------------

    def _request_ticket(self) -> list[Effect]:
        c = self.customer
        assert c is not None and c.business is not None
        if self._closed_now():
            return self._go(Screen.CLOSED)
        rid = self.new_id()
        c.pending_request = rid
        data = TicketRequestData(request_id=rid, business=c.business, visit_id=c.visit_id,
                                 customer_ref=c.customer_ref, elderly=self.elder,
                                 appointment_code=c.appointment_code, phone_last4=c.phone_last4)
        return [Send(TicketRequestMessage, data), StartTimer(Timer.REPLY, rid, self.reply_timeout_s),
                *self._go(Screen.ISSUING)]

    def ticket_reply(self, reply: TicketReplyData) -> list[Effect]:
        """The hub's answer to our ticket request: its ticket, or why there is none."""
        c = self.customer
        if c is None or c.pending_request != reply.request_id:
            return []  # late or foreign: the customer already holds a ticket for this request
        if reply.ticket is None:
            c.pending_request = None
            refused = reply.refused
            code = refused.code if refused else None
            hours = code is RefusalCode.CLOSED or (code is RefusalCode.ISSUING_STOPPED and refused.opens_at)
            if hours:  # (issuing stopped by staff has no opening time: the reason is shown as it is)
                self.closed = ClosedNotice(last_ticket=code is RefusalCode.ISSUING_STOPPED,
                                           opens_at=refused.opens_at if refused else None,
                                           holiday=self._holiday())
                return self._go(Screen.CLOSED)
            if code in APPOINTMENT_REFUSALS:
                c.appointment_code = c.phone_last4 = None
                return [ScanQr(self.components.camera),
                        *self._go(Screen.APPOINTMENT, APPOINTMENT_REFUSALS[code],  # type: ignore[index]
                                  early=self.hours.appointments.early_min if self.hours else 30)]
            return self._go(Screen.BUSINESS, "request_refused", reason=refused.message if refused else "")
        checked_in = c.appointment_code is not None or c.phone_last4 is not None  # the hub found the booking
        return self._issued(Ticket.issued(reply.request_id, reply.ticket, elderly=self.elder, priority=checked_in))

    def timer_expired(self, timer: Timer, key: str) -> list[Effect]:
        c = self.customer
        if c is None:
            return []
        if timer is Timer.REPLY and c.pending_request == key:
            return self._issue_local(key)
        if timer is Timer.PROBE and c.pending_probe == key:
            c.pending_probe = None
            return self._go(Screen.BUSINESS, "not_recognised")
        if timer is Timer.FACE and c.pending_face == key:
            c.pending_face = None  # the request stays in the outbox: the hub still answers it later
            return self._go(Screen.FACE_RESULT, "face_no_answer")
        return []

    def _issue_local(self, request_id: str) -> list[Effect]:
        """A provisional number from our range; the same request_id tells the hub it is one ticket."""
        c = self.customer
        assert c is not None and c.business is not None
        number = self.local_number()
        ticket = Ticket(request_id=request_id, business=c.business, number=number, provisional=True,
                        elderly=self.elder)  # no priority shown: only the hub can check an appointment
        follow_up = TicketRequestData(request_id=request_id, business=c.business, visit_id=c.visit_id,
                                      customer_ref=c.customer_ref, elderly=self.elder,
                                      appointment_code=c.appointment_code, phone_last4=c.phone_last4,
                                      provisional_number=number)
        return [Send(TicketRequestMessage, follow_up), *self._issued(ticket)]

    def _issued(self, ticket: Ticket) -> list[Effect]:
        c = self.customer
        assert c is not None
        c.pending_request = None
        if self.components.printer:
            c.ticket = ticket
            return [PrintTicket(ticket), *self._go(Screen.TICKET)]
        c.ticket = ticket.with_printed(False)
        return self._go(Screen.TICKET, "print_failed")

    def print_result(self, request_id: str, ok: bool) -> list[Effect]:
        c = self.customer
        if c is None or c.ticket is None or c.ticket.request_id != request_id:
            return []
        c.ticket = c.ticket.with_printed(ok)
        if self.screen is not Screen.TICKET:
            return []
        return self._go(Screen.TICKET, None if ok else "print_failed")

    # --- recognition ----------------------------------------------------------------------------

    def face_embeddings(self, request_id: str, embeddings: list[list[float]]) -> list[Effect]:
        c = self.customer
        if c is not None and c.pending_face == request_id and self.screen is Screen.ENROL_CAPTURE:
            return self._enrol_embeddings(request_id, embeddings)
        if c is None or c.pending_probe != request_id or not c.consented:
            return []  # never send a face template without consent
        data = FaceProbeData(request_id=request_id, embeddings=embeddings[:5],
                             consent_version=self.consent_version, visit_id=c.visit_id)
        return [Send(FaceProbeMessage, data), StartTimer(Timer.PROBE, request_id, self.reply_timeout_s)]

    def face_failed(self, request_id: str, camera_broken: bool = False) -> list[Effect]:
        c = self.customer
        if c is not None and c.pending_face == request_id and self.screen is Screen.ENROL_CAPTURE:
            c.pending_face = None
            return self._go(Screen.FACE_RESULT, "camera_unavailable" if camera_broken else "enrol_no_face")
        if c is None or c.pending_probe != request_id:
            return []
        c.pending_probe = None
        return self._go(Screen.BUSINESS, "camera_unavailable" if camera_broken else "not_recognised")

    def face_reply(self, reply: FaceReplyData) -> list[Effect]:
        """The hub's answer to our face probe: a greeting for a match, else on to the businesses."""
        c = self.customer
        if c is None or c.pending_probe != reply.request_id:
            return []
        c.pending_probe = None
        if reply.customer is None:
            return self._go(Screen.BUSINESS, "not_recognised")
        c.greeting_name = mask_name(reply.customer.masked_name)[:20]
        c.probe_ref, c.last_probe = reply.customer.customer_ref, reply.request_id
        usual = reply.customer.usual_business
        c.suggested_business = usual if self.business_option(usual) else None
        return self._go(Screen.GREETING)

    # --- face opt-in: enrolment, withdrawal --------------------------------------------------------
    # Offered after the ticket, to a customer identified by card or ID in this session; "no thanks" is as
    # prominent as "yes" and changes nothing about the ticket. Embeddings only, and only after "start".

    @property
    def can_enrol(self) -> bool:
        c = self.customer
        return bool(self.face_available and c is not None and c.customer_ref and c.card_kind
                    and c.face_ref is None and not c.face_offered)

    @property
    def can_withdraw(self) -> bool:
        c = self.customer
        return c is not None and bool(c.customer_ref or c.face_ref)

    def offer_enrolment(self) -> list[Effect]:
        if self.screen is not Screen.TICKET or not self.can_enrol:
            return []
        return self._go(Screen.ENROL_CONSENT)

    def enrol_consent(self, agree: bool) -> list[Effect]:
        c = self.customer
        if self.screen is not Screen.ENROL_CONSENT or c is None:
            return []
        c.face_offered = True  # asked once per visit: no pressure
        return self._go(Screen.ENROL_AGE) if agree else self._after_face()

    def enrol_age(self, fourteen_or_older: bool) -> list[Effect]:
        if self.screen is not Screen.ENROL_AGE or self.customer is None:
            return []
        if not fourteen_or_older:
            return self._go(Screen.FACE_RESULT, "enrol_under_14")
        return self._go(Screen.ENROL_START)

    def enrol_start(self) -> list[Effect]:
        """Only now does the camera look: the customer pressed start."""
        c = self.customer
        if self.screen is not Screen.ENROL_START or c is None or not self.face_available:
            return []
        c.pending_face = self.new_id()
        return [CaptureFace(c.pending_face, ENROL_FRAMES), *self._go(Screen.ENROL_CAPTURE)]

    def _enrol_embeddings(self, request_id: str, embeddings: list[list[float]]) -> list[Effect]:
        c = self.customer
        assert c is not None and c.customer_ref and c.card_kind
        data = FaceEnrolData(request_id=request_id, card_hash=c.customer_ref,
                             card_kind="id" if c.card_kind == "id" else "bank", embeddings=embeddings[:5],
                             consent_version=self.consent_version, age_confirmed=True, visit_id=c.visit_id)
        return [Send(FaceEnrolMessage, data), StartTimer(Timer.FACE, request_id, self.reply_timeout_s * 2)]

    def face_enrol_reply(self, reply: FaceEnrolReplyData) -> list[Effect]:
        c = self.customer
        if c is None or c.pending_face != reply.request_id:
            return []
        c.pending_face = None
        if reply.refused is not None:
            return self._go(Screen.FACE_RESULT, "enrol_refused", reason=self._reason(reply.refused.message))
        return [self._withdraw_slip(), *self._go(Screen.FACE_RESULT, "enrolled")]

    def withdraw_face(self) -> list[Effect]:
        """Withdraw consent for the customer identified in this visit (card, or a confirmed match)."""
        c = self.customer
        if c is None or not self.can_withdraw or c.pending_face or self.screen not in (Screen.TICKET,
                                                                                       Screen.BUSINESS):
            return []
        c.pending_face = self.new_id()
        by_card = c.customer_ref is not None
        data = FaceConsentData(request_id=c.pending_face, action="withdraw", consent_version=self.consent_version,
                               card_hash=c.customer_ref if by_card else None,
                               customer_ref=None if by_card else c.face_ref, visit_id=c.visit_id)
        return [Send(FaceConsentMessage, data), StartTimer(Timer.FACE, c.pending_face, self.reply_timeout_s * 2),
                *self._go(Screen.FACE_RESULT, "withdrawing")]

    def face_consent_reply(self, reply: FaceConsentReplyData) -> list[Effect]:
        c = self.customer
        if c is None or c.pending_face != reply.request_id:
            return []
        c.pending_face = None
        if reply.refused is not None:
            return self._go(Screen.FACE_RESULT, "withdraw_refused", reason=self._reason(reply.refused.message))
        c.face_ref = None
        return self._go(Screen.FACE_RESULT, "withdrawn")

    def face_result_done(self) -> list[Effect]:
        if self.screen is not Screen.FACE_RESULT or self.customer is None or self.customer.pending_face:
            return []
        return self._after_face()

    def _after_face(self) -> list[Effect]:
        c = self.customer
        assert c is not None
        return self._go(Screen.TICKET if c.ticket is not None else Screen.BUSINESS)

    def _reason(self, message: Any) -> str:
        return message.zh if self.lang is Lang.ZH else message.en

    def _withdraw_slip(self) -> PrintNote:
        return PrintNote(title=(tr("slip_title", Lang.ZH), tr("slip_title", Lang.EN)),
                         lines=tuple((tr(k, Lang.ZH), tr(k, Lang.EN)) for k in ("slip_what", "slip_withdraw",
                                                                                  "slip_how_long", "slip_hint")))

    # --- remote commands ------------------------------------------------------------------------

    def command(self, command_id: str, name: str, args: dict[str, Any], *, expired: bool = False
                ) -> list[Effect]:
        if expired:
            return [self.command_result(command_id, "expired")]
        if name not in COMMANDS:
            return [self.command_result(command_id, "refused", f"unknown command {name!r}")]
        if name == "out_of_service":
            effects = self._end_visit() if self.customer else []
            self.in_service = False
            zh, en = str(args.get("alternative_zh") or self.alternative[0]), str(
                args.get("alternative_en") or self.alternative[1])
            self.out_of_service_note = (zh, en)
            self.lang, self.elder = self.default_language, self.default_elder
            return [*effects, Identify(False), ScanQr(False), self.command_result(command_id, "ok"),
                    *self._go(Screen.OUT_OF_SERVICE)]
        if name == "in_service":
            self.in_service = True
            self.out_of_service_note = None
            return [self.command_result(command_id, "ok"), *self._go(Screen.ATTRACT)]
        return [RunCommand(command_id, name, dict(args))]

    @staticmethod
    def command_result(command_id: str, status: str, detail: str | None = None) -> Send:
        return Send(CommandResultMessage, CommandResultData(command_id=command_id, status=status,
                                                            detail=detail[:200] if detail else None),
                    TopicKind.COMMAND_RESULT)

    # --- time -----------------------------------------------------------------------------------

    def idle_limit(self) -> float:
        return self.idle_timeout_s * SHORT_SCREENS.get(self.screen, 1.0)

    def tick(self, now: float) -> list[Effect]:
        """Called about once a second: after `idle_limit()` s without a touch, everything is cleared. While
        idle, the closed screen follows the branch calendar (when the kiosk knows it)."""
        if self.screen is Screen.OUT_OF_SERVICE:
            return []
        if self.customer is None and self.screen in (Screen.ATTRACT, Screen.CLOSED):
            closed = self._closed_now()
            if closed and self.screen is Screen.ATTRACT:
                return self._go(Screen.CLOSED)
            if not closed and self.screen is Screen.CLOSED and (self.hours is not None or
                                                              now - self.last_touch >= self.idle_limit()):
                self.closed = None
                return self._go(Screen.ATTRACT)
            return []
        if self.screen is Screen.ISSUING or (self.customer and (self.customer.pending_probe
                                                                 or self.customer.pending_face)):
            return []  # waiting on the hub: its own timer ends this
        if now - self.last_touch >= self.idle_limit():
            return self.home()
        return []

    def home(self) -> list[Effect]:
        effects = self._end_visit() if self.customer else []
        self.lang, self.elder = self.default_language, self.default_elder
        if not self.in_service:
            return [*effects, *self._go(Screen.OUT_OF_SERVICE)]
        home = Screen.CLOSED if self._closed_now() else Screen.ATTRACT
        return [*effects, Identify(False), ScanQr(False), *self._go(home)]

    def _end_visit(self) -> list[Effect]:
        c = self.customer
        assert c is not None
        held = self._send_survey()  # stars given, the 0–10 question left unanswered: still a survey
        self.customer = None
        now = self.clock()
        functions = {Screen.SURVEY: "survey", Screen.APPOINTMENT: "appointment"}
        function = functions.get(c.came_for or Screen.BUSINESS, "ticket")
        outcome = Outcome.OK if c.ticket is not None or held or self.screen is Screen.THANKS else Outcome.ABANDONED
        started = min(c.started_at, now)
        return [*held, Send(UsageSessionMessage, UsageSessionData(session_id=self.new_id(), function=function,
                                                           started_at=started, ended_at=now, outcome=outcome,
                                                           visit_id=c.visit_id)),
                Send(VisitMessage, VisitData(visit_id=c.visit_id, phase="end", customer_ref=c.customer_ref))]

    # --- opening hours ----------------------------------------------------------------------------

    def _closed_now(self) -> ClosedNotice | None:
        """By the branch calendar the kiosk knows: the notice if it does not issue now (None: open or unknown)."""
        if self.hours is None:
            return None
        status = calendar.issuing(self.hours, self.clock())
        if status.open:
            self.closed = None
            return None
        self.closed = ClosedNotice(last_ticket=status.closed is calendar.Closed.LAST_TICKET,
                                   opens_at=status.opens_at, holiday=self._holiday())
        return self.closed

    def _holiday(self) -> tuple[str, str] | None:
        if self.hours is None:
            return None
        return calendar.holiday_name(self.hours, calendar.local(self.hours, self.clock()).date())

    def closed_text(self) -> tuple[str, str]:
        """(headline, detail) of the closed screen in the current language."""
        n = self.closed or ClosedNotice()
        head = self.t("closed_last_ticket") if n.last_ticket else self.t("closed_title")
        if n.holiday:
            head = self.t("closed_holiday", name=n.holiday[0] if self.lang is Lang.ZH else n.holiday[1])
        if n.opens_at is None:
            return head, self.t("closed_reopen_unknown")
        tz = ZoneInfo(self.hours.timezone) if self.hours else None
        local = n.opens_at.astimezone(tz)
        today = self.clock().astimezone(tz).date()
        days = (local.date() - today).days
        when = local.strftime("%H:%M")
        if days == 1:
            when = self.t("closed_tomorrow", time=when)
        elif days > 1:
            when = local.strftime("%m-%d %H:%M") if self.lang is Lang.ZH else local.strftime("%d %b %H:%M")
        return head, self.t("closed_opens_at", when=when)

    # --- for screens ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A plain view of the state (for diagnostics and tests)."""
        c = self.customer
        return {"screen": str(self.screen), "lang": str(self.lang), "elder": self.elder,
                "online": self.online,
                "in_service": self.in_service, "components": vars(self.components).copy(),
                "customer": None if c is None else {
                    "business": c.business, "identified": c.customer_ref is not None,
                    "ticket": None if c.ticket is None else replace(c.ticket).number,
                    "message": c.message}}
