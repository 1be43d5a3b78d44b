"""The kiosk's screens: thin views that render KioskFlow's state and report taps as actions."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk_client.core.flow import RECENT_CALLS, KioskFlow, Screen
from kiosk_client.core.i18n import TAGS
from kiosk_client.ui.keypad import Keypad

Act = Callable[..., None]


def label(text: str = "", name: str = "", wrap: bool = True, center: bool = True) -> QLabel:
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    w.setWordWrap(wrap)
    if center:
        w.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return w


def button(name: str = "", on_click: Callable[[], None] | None = None) -> QPushButton:
    b = QPushButton()
    if name:
        b.setObjectName(name)
    if on_click is not None:
        b.clicked.connect(lambda _=False: on_click())
    return b


def qr_pixmap(data: str, size: int = 260) -> QPixmap:
    import qrcode

    buf = BytesIO()
    qrcode.make(data, border=2, box_size=8).save(buf, "PNG")
    pix = QPixmap()
    pix.loadFromData(buf.getvalue(), "PNG")
    return pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio)


class BigCheckBox(QCheckBox):
    """A check box that toggles wherever its row is touched (a fingertip, not a mouse pointer)."""

    def hitButton(self, pos) -> bool:
        return self.rect().contains(pos)


class Page(QWidget):
    """A screen: built once, render() updates every text from the flow."""

    screen: Screen

    def __init__(self, act: Act):
        super().__init__()
        self.act = act
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(40, 30, 40, 30)
        self.box.setSpacing(18)
        self.title = label(name="title")
        self.box.addWidget(self.title)
        self.notice = label(name="notice")
        self.notice.hide()

    def render(self, flow: KioskFlow) -> None:
        c = flow.customer
        if c is not None and c.message:
            self.notice.setText(flow.t(c.message, **c.message_args))
            self.notice.show()
        else:
            self.notice.hide()


class AttractPage(Page):
    screen = Screen.ATTRACT

    def __init__(self, act: Act):
        super().__init__(act)
        self.prompt = label(name="muted")
        self.box.addWidget(self.prompt)
        self.box.addStretch(1)
        self.take = button("primary", lambda: act("take_ticket"))
        self.take.setMinimumHeight(160)
        self.box.addWidget(self.take)
        row = QHBoxLayout()
        self.appt = button("", lambda: act("appointment"))
        self.face = button("", lambda: act("recognise_me"))
        self.rate = button("", lambda: act("rate_service"))
        for b in (self.appt, self.face, self.rate):
            row.addWidget(b)
        self.box.addLayout(row)
        self.offline = label(name="badge")
        self.box.addWidget(self.offline)
        self.box.addStretch(1)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText(flow.t("welcome", branch=flow.branch_label))
        self.prompt.setText(flow.t("touch_to_start"))
        self.take.setText(flow.t("take_ticket"))
        self.appt.setText(flow.t("appointment"))
        self.face.setText(flow.t("recognise_me"))
        self.face.setVisible(flow.face_available)
        self.rate.setText(flow.t("rate_service"))
        self.offline.setText(flow.t("offline_badge"))
        self.offline.setVisible(not flow.online)


class BusinessPage(Page):
    screen = Screen.BUSINESS

    def __init__(self, act: Act, flow: KioskFlow):
        super().__init__(act)
        self.box.addWidget(self.notice)
        self.suggest = label(name="muted")
        self.box.addWidget(self.suggest)
        grid = QGridLayout()
        grid.setSpacing(16)
        self.buttons: dict[str, QPushButton] = {}
        for i, b in enumerate(flow.businesses):
            btn = button("", lambda code=b.code: act("choose_business", code))
            btn.setMinimumHeight(110)
            grid.addWidget(btn, i // 2, i % 2)
            self.buttons[b.code] = btn
        self.box.addLayout(grid)
        self.box.addStretch(1)
        row = QHBoxLayout()
        self.face = button("", lambda: act("recognise_me"))
        self.back = button("", lambda: act("back"))
        row.addWidget(self.back)
        row.addStretch(1)
        row.addWidget(self.face)
        self.box.addLayout(row)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText(flow.t("choose_business"))
        c = flow.customer
        suggested = c.suggested_business if c else None
        for b in flow.businesses:
            btn = self.buttons[b.code]
            btn.setText(b.name(flow.lang).replace("&", "&&"))
            btn.setObjectName("primary" if b.code == suggested else "")
            btn.style().unpolish(btn)
            btn.style().polish(btn)
        opt = flow.business_option(suggested)
        self.suggest.setText(flow.t("suggested", business=opt.name(flow.lang)) if opt else "")
        self.suggest.setVisible(opt is not None)
        self.face.setText(flow.t("recognise_me"))
        self.face.setVisible(flow.face_available and not (c and (c.greeting_name or c.customer_ref)))
        self.back.setText(flow.t("back"))


class IdentifyPage(Page):
    screen = Screen.IDENTIFY

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.addWidget(self.notice)
        self.card = label()
        self.id = label()
        self.why = label(name="muted")
        for w in (self.card, self.id, self.why):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.skip = button("primary", lambda: act("skip_identification"))
        self.box.addWidget(self.skip)
        self.back = button("", lambda: act("back"))
        self.box.addWidget(self.back)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        check_in = flow.customer is not None and flow.customer.phone_last4 is not None  # phone, then the card
        self.title.setText(flow.t("appt_card_title" if check_in else "identify_title"))
        self.card.setText("💳  " + flow.t("identify_card"))
        self.card.setVisible(flow.components.card_reader)
        self.id.setText("🪪  " + flow.t("identify_id"))
        self.id.setVisible(flow.components.id_reader)
        self.why.setText(flow.t("identify_why"))
        self.skip.setText(flow.t("appt_use_code" if check_in else "identify_skip"))
        self.back.setText(flow.t("back"))


class ConsentPage(Page):
    screen = Screen.CONSENT

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.addWidget(self.notice)
        self.lines = [label(center=False) for _ in range(4)]
        for w in self.lines:
            self.box.addWidget(w)
        self.check = BigCheckBox()
        self.check.toggled.connect(lambda on: self.yes.setEnabled(on))
        self.box.addWidget(self.check)
        self.box.addStretch(1)
        row = QHBoxLayout()
        self.no = button("", lambda: act("consent", False))
        self.yes = button("primary", lambda: act("consent", True))
        self.no.setMinimumHeight(100)
        self.yes.setMinimumHeight(100)
        row.addWidget(self.no)
        row.addWidget(self.yes)
        self.box.addLayout(row)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        if flow.screen is not Screen.CONSENT:
            return
        self.title.setText(flow.t("consent_title"))
        for w, key in zip(self.lines, ("consent_what", "consent_why", "consent_how_long",
                                       "consent_withdraw_how"), strict=True):
            w.setText(flow.t(key))
        self.check.setText(flow.t("consent_check"))
        self.yes.setText(flow.t("consent_yes"))
        self.yes.setEnabled(self.check.isChecked())
        self.no.setText(flow.t("consent_no"))

    def reset(self) -> None:
        self.check.setChecked(False)  # never pre-ticked


class RecognisePage(Page):
    """The customer looks at the camera while it works (`status_key` says what for)."""

    screen = Screen.RECOGNISE
    status_key = "recognising"

    def __init__(self, act: Act):
        super().__init__(act)
        self.status = label(name="muted")
        self.box.addStretch(1)
        self.box.addWidget(self.status)
        self.box.addStretch(1)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText(flow.t("look_at_camera"))
        self.status.setText("📷  " + flow.t(self.status_key))


class GreetingPage(Page):
    """"Possibly 王*明 — is this you?": a suggestion the customer confirms or declines, never an identification."""

    screen = Screen.GREETING

    def __init__(self, act: Act):
        super().__init__(act)
        self.suggest = label(name="muted")
        self.hint = label(name="muted")
        self.box.addStretch(1)
        self.box.addWidget(self.suggest)
        self.box.addWidget(self.hint)
        self.box.addStretch(1)
        row = QHBoxLayout()
        self.no = button("choice", lambda: act("answer_greeting", False))
        self.yes = button("choice", lambda: act("answer_greeting", True))
        for b in (self.no, self.yes):
            b.setMinimumHeight(100)
            row.addWidget(b, 1)
        self.box.addLayout(row)

    def render(self, flow: KioskFlow) -> None:
        c = flow.customer
        self.title.setText(flow.t("greeting_question", name=c.greeting_name if c else ""))
        opt = flow.business_option(c.suggested_business if c else None)
        self.suggest.setText(flow.t("suggested", business=opt.name(flow.lang)) if opt else "")
        self.hint.setText(flow.t("greeting_hint"))
        self.yes.setText(flow.t("greeting_yes"))
        self.no.setText(flow.t("greeting_no"))


class AppointmentPage(Page):
    screen = Screen.APPOINTMENT

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.addWidget(self.notice)
        self.scan = label(name="muted")
        self.or_type = label()
        self.box.addWidget(self.scan)
        self.box.addWidget(self.or_type)
        fields = QHBoxLayout()
        self.phone_btn = button("", lambda: self.focus("phone"))
        self.code_btn = button("", lambda: self.focus("code"))
        self.phone = label(name="field")
        self.code = label(name="field")
        for caption, field in ((self.phone_btn, self.phone), (self.code_btn, self.code)):
            col = QVBoxLayout()
            col.addWidget(caption)
            col.addWidget(field)
            fields.addLayout(col)
        self.box.addLayout(fields)
        self.keypad = Keypad(letters=True, max_len=12)
        self.keypad.changed.connect(self._typed)
        self.box.addWidget(self.keypad)
        row = QHBoxLayout()
        self.back = button("", lambda: act("back"))
        self.submit = button("primary", lambda: act("submit_appointment", self.values["phone"],
                                                     self.values["code"]))
        row.addWidget(self.back)
        row.addWidget(self.submit)
        self.box.addLayout(row)
        self.values = {"phone": "", "code": ""}
        self.current = "phone"

    def focus(self, which: str) -> None:
        self.current = which
        self.keypad.value = self.values[which]
        self.keypad.max_len = 4 if which == "phone" else 12

    def _typed(self, value: str) -> None:
        if self.current == "phone":
            value = "".join(ch for ch in value if ch.isdigit())[:4]
            self.keypad.value = value
        self.values[self.current] = value
        self.phone.setText(self.values["phone"])
        self.code.setText(self.values["code"])
        if self.current == "phone" and len(value) == 4:
            self.focus("code")

    def reset(self) -> None:
        self.values = {"phone": "", "code": ""}
        self.phone.setText("")
        self.code.setText("")
        self.focus("phone")

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText(flow.t("appt_title"))
        self.scan.setText("📷  " + flow.t("appt_scan"))
        self.scan.setVisible(flow.components.camera)
        self.or_type.setText(flow.t("appt_or_type"))
        self.phone_btn.setText(flow.t("appt_phone"))
        self.code_btn.setText(flow.t("appt_code"))
        self.submit.setText(flow.t("appt_submit"))
        self.back.setText(flow.t("back"))


class IssuingPage(Page):
    screen = Screen.ISSUING

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.insertStretch(0, 1)
        self.box.addStretch(1)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText("⏳  " + flow.t("issuing"))


class TicketPage(Page):
    screen = Screen.TICKET

    def __init__(self, act: Act):
        super().__init__(act)
        self.caption = label(name="muted")
        self.number = label(name="huge")
        self.business = label(name="title")
        self.wait = label()
        self.status = label()
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.provisional = label(name="muted")
        for w in (self.caption, self.number, self.business, self.wait, self.notice, self.qr, self.status,
                  self.provisional):
            self.box.addWidget(w)
        self.box.addStretch(1)
        from kiosk_client.ui.face_screens import FaceRow  # the face opt-in's row (its own module)

        self.face_row = FaceRow(act)
        self.box.addWidget(self.face_row)
        self.done = button("primary", lambda: act("done"))
        self.box.addWidget(self.done)
        self._qr_for: str | None = None

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        c = flow.customer
        t = c.ticket if c else None
        if t is None:
            return
        opt = flow.business_option(t.business)
        self.title.setText("")
        self.title.hide()
        self.caption.setText(flow.t("your_number"))
        self.number.setText(t.number)
        tags = [opt.name(flow.lang)] if opt else []
        if label := flow.priority_label(t):
            tags.append(label)
        self.business.setText(" · ".join(tags))
        waits = []
        if t.people_ahead is not None:
            waits.append(flow.t("people_ahead", n=t.people_ahead))
        if t.wait_range is not None:
            waits.append(flow.wait_text(t))
        self.wait.setText("  ·  ".join(waits) or flow.t("wait_unknown"))
        self.status.setText(flow.t("printing") if t.printed is None else
                            flow.t("printed") if t.printed else "")
        self.status.setVisible(t.printed is not False)
        if t.printed is False:
            url = flow.status_url(t.number, t.status_path)
            if self._qr_for != url:
                self.qr.setPixmap(qr_pixmap(url))
                self._qr_for = url
            self.qr.show()
        else:
            self.qr.hide()
        self.provisional.setText(flow.t("provisional"))
        self.provisional.setVisible(t.provisional)
        self.face_row.render(flow)
        self.done.setText(flow.t("done"))


class SurveyPage(Page):
    screen = Screen.SURVEY

    def __init__(self, act: Act):
        super().__init__(act)
        self.served_title = label(name="muted")
        self.box.addWidget(self.served_title)
        served = QHBoxLayout()
        self.served: list[QPushButton] = []
        for i in range(RECENT_CALLS):  # the last calls: "which ticket was yours?" ties the survey to it
            b = button("chip", lambda i=i: self._choose(i))
            b.setCheckable(True)
            served.addWidget(b)
            self.served.append(b)
        self.box.addLayout(served)
        self._calls: list[str] = []
        stars = QHBoxLayout()
        self.stars: list[QPushButton] = []
        for n in range(1, 6):
            b = button("star", lambda n=n: self.set_score(n))
            b.setCheckable(True)
            b.setText("★" * 1 + f" {n}")
            stars.addWidget(b)
            self.stars.append(b)
        self.box.addLayout(stars)
        self.tags_title = label(name="muted")
        self.box.addWidget(self.tags_title)
        tags = QHBoxLayout()
        self.tags: dict[str, QPushButton] = {}
        for tag in TAGS:
            b = button("chip")
            b.setCheckable(True)
            tags.addWidget(b)
            self.tags[tag] = b
        self.box.addLayout(tags)
        self.box.addStretch(1)
        row = QHBoxLayout()
        self.back = button("", lambda: act("back"))
        self.submit = button("primary", lambda: act("submit_survey", self.score,
                                                     [t for t, b in self.tags.items() if b.isChecked()]))
        row.addWidget(self.back)
        row.addWidget(self.submit)
        self.box.addLayout(row)
        self.score = 0

    def set_score(self, n: int) -> None:
        self.score = n
        for i, b in enumerate(self.stars, start=1):
            b.setChecked(i <= n)
        self.submit.setEnabled(True)

    def _choose(self, i: int) -> None:
        if i < len(self._calls):
            self.act("choose_served", self._calls[i])

    def reset(self) -> None:
        self.score = 0
        for b in [*self.stars, *self.tags.values(), *self.served]:
            b.setChecked(False)

    def render(self, flow: KioskFlow) -> None:
        c = flow.customer
        self._calls = [x.ticket for x in flow.recent_calls]
        self.served_title.setText(flow.t("survey_served"))
        self.served_title.setVisible(bool(self._calls))
        for i, b in enumerate(self.served):
            call = flow.recent_calls[i] if i < len(flow.recent_calls) else None
            b.setVisible(call is not None)
            if call is not None:
                b.setText(flow.t("survey_served_call", ticket=call.ticket, counter=call.counter))
                b.setChecked(c is not None and c.served == call)
        self.title.setText(flow.t("survey_title"))
        self.tags_title.setText(flow.t("survey_tags"))
        for tag, b in self.tags.items():
            b.setText(flow.t(f"tag_{tag}"))
        self.submit.setText(flow.t("survey_submit"))
        self.submit.setEnabled(self.score > 0)
        self.back.setText(flow.t("back"))


class NpsPage(Page):
    """The optional 0–10 question after the stars: one tap answers, a large Skip moves on."""

    screen = Screen.NPS

    def __init__(self, act: Act):
        super().__init__(act)
        grid = QGridLayout()
        self.scores: list[QPushButton] = []
        for n in range(11):  # two rows of large targets: 0–5, 6–10
            b = button("key", lambda n=n: act("submit_nps", n))
            b.setText(str(n))
            grid.addWidget(b, n // 6, n % 6)
            self.scores.append(b)
        self.box.addLayout(grid)
        ends = QHBoxLayout()
        self.low = label(name="muted", center=False)
        self.high = label(name="muted")
        self.high.setAlignment(Qt.AlignmentFlag.AlignRight)
        ends.addWidget(self.low)
        ends.addWidget(self.high)
        self.box.addLayout(ends)
        self.box.addStretch(1)
        self.skip = button("primary", lambda: act("submit_nps", None))
        self.box.addWidget(self.skip)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText(flow.t("nps_title"))
        self.low.setText(flow.t("nps_low"))
        self.high.setText(flow.t("nps_high"))
        self.skip.setText(flow.t("nps_skip"))


class ThanksPage(Page):
    screen = Screen.THANKS

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.insertStretch(0, 1)
        self.box.addStretch(1)
        self.done = button("primary", lambda: act("done"))
        self.box.addWidget(self.done)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText("🙏  " + flow.t("thanks"))
        self.done.setText(flow.t("home"))


class OutOfServicePage(Page):
    screen = Screen.OUT_OF_SERVICE

    def __init__(self, act: Act):
        super().__init__(act)
        self.sorry = label()
        self.where = label(name="notice")
        self.box.insertStretch(0, 1)
        self.box.addWidget(self.sorry)
        self.box.addWidget(self.where)
        self.box.addStretch(1)

    def render(self, flow: KioskFlow) -> None:
        self.title.setText(flow.t("out_of_service"))
        self.sorry.setText(flow.t("sorry"))
        note = flow.out_of_service_note or flow.alternative
        self.where.setText(note[0] if flow.lang.value == "zh" else note[1])


class ClosedPage(Page):
    """Outside the branch's hours: "closed, we open at …" (the holiday's name on a holiday), in both languages."""

    screen = Screen.CLOSED

    def __init__(self, act: Act):
        super().__init__(act)
        self.when = label(name="title")
        self.sorry = label(name="muted")
        self.box.insertStretch(0, 1)
        self.box.addWidget(self.when)
        self.box.addWidget(self.sorry)
        self.box.addStretch(1)
        self.home = button("primary", lambda: act("done"))
        self.box.addWidget(self.home)

    def render(self, flow: KioskFlow) -> None:
        head, when = flow.closed_text()
        self.title.setText(head)
        self.when.setText(when)
        self.sorry.setText(flow.t("closed_sorry"))
        self.home.setText(flow.t("home"))
        self.home.setVisible(flow.customer is not None)
