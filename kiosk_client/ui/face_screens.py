"""The face opt-in screens: consent (with its version), age, start, capture, result; and the ticket screen's row
that offers enrolment or withdrawal. "No thanks" is as large and as plain as "yes": no default, no nudge."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk_client.core.flow import KioskFlow, Screen
from kiosk_client.ui.screens import Act, BigCheckBox, Page, RecognisePage, button, label


def _pair(page: Page, left: tuple[str, tuple], right: tuple[str, tuple], height: int = 110) -> tuple:
    """Two equally prominent choices side by side (same size, same style)."""
    row = QHBoxLayout()
    a = button("choice", lambda: page.act(*left[1]))
    b = button("choice", lambda: page.act(*right[1]))
    for w in (a, b):
        w.setMinimumHeight(height)
        row.addWidget(w, 1)
    page.box.addLayout(row)
    return a, b


class FaceRow(QWidget):
    """On the ticket screen: "recognise me next time" for a customer identified by card, "withdraw" for one
    identified by card or a confirmed match."""

    def __init__(self, act: Act):
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.enrol = button("", lambda: act("offer_enrolment"))
        self.withdraw = button("", lambda: act("withdraw_face"))
        row.addWidget(self.enrol)
        row.addStretch(1)
        row.addWidget(self.withdraw)

    def render(self, flow: KioskFlow) -> None:
        self.enrol.setText(flow.t("enrol_offer"))
        self.enrol.setVisible(flow.can_enrol)
        self.withdraw.setText(flow.t("withdraw_face"))
        self.withdraw.setVisible(flow.face_recognition and flow.can_withdraw)
        self.setVisible(self.enrol.isVisibleTo(self) or self.withdraw.isVisibleTo(self))


class EnrolConsentPage(Page):
    """The consent text on its own screen, its version shown; read and ticked before "yes" can be pressed."""

    screen = Screen.ENROL_CONSENT

    def __init__(self, act: Act):
        super().__init__(act)
        self.lines = [label(center=False) for _ in range(4)]
        for w in self.lines:
            self.box.addWidget(w)
        self.version = label(name="muted")
        self.same = label(name="muted")
        self.box.addWidget(self.version)
        self.box.addWidget(self.same)
        self.check = BigCheckBox()
        self.check.toggled.connect(lambda on: self.yes.setEnabled(on))
        self.box.addWidget(self.check)
        self.box.addStretch(1)
        self.no, self.yes = _pair(self, ("No", ("enrol_consent", False)), ("Yes", ("enrol_consent", True)))

    def reset(self) -> None:
        self.check.setChecked(False)  # never pre-ticked

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText(flow.t("enrol_title"))
        for w, key in zip(self.lines, ("consent_what", "consent_why", "consent_how_long", "consent_withdraw_how"),
                          strict=True):
            w.setText(flow.t(key))
        self.version.setText(flow.t("enrol_version", version=flow.consent_version))
        self.same.setText(flow.t("enrol_same_ticket"))
        self.check.setText(flow.t("consent_check"))
        self.yes.setText(flow.t("enrol_yes"))
        self.yes.setEnabled(self.check.isChecked())
        self.no.setText(flow.t("enrol_no"))


class EnrolAgePage(Page):
    screen = Screen.ENROL_AGE

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.addStretch(1)
        self.under, self.adult = _pair(self, ("", ("enrol_age", False)), ("", ("enrol_age", True)))
        self.box.addStretch(1)
        self.back = button("", lambda: act("back"))
        self.box.addWidget(self.back)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText(flow.t("enrol_age_title"))
        self.under.setText(flow.t("enrol_age_no"))
        self.adult.setText(flow.t("enrol_age_yes"))
        self.back.setText(flow.t("enrol_no"))


class EnrolStartPage(Page):
    screen = Screen.ENROL_START

    def __init__(self, act: Act):
        super().__init__(act)
        self.note = label(name="muted")
        self.box.addStretch(1)
        self.box.addWidget(self.note)
        self.box.addStretch(1)
        self.start = button("primary", lambda: act("enrol_start"))
        self.start.setMinimumHeight(110)
        self.box.addWidget(self.start)
        self.back = button("", lambda: act("back"))
        self.box.addWidget(self.back)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText("📷  " + flow.t("enrol_start_title"))
        self.note.setText(flow.t("enrol_start_note"))
        self.start.setText(flow.t("enrol_start"))
        self.back.setText(flow.t("enrol_no"))


class EnrolCapturePage(RecognisePage):
    screen = Screen.ENROL_CAPTURE
    status_key = "enrol_capturing"


class FaceResultPage(Page):
    """What happened: enrolled (and the slip says how to withdraw), refused and why, withdrawn."""

    screen = Screen.FACE_RESULT

    def __init__(self, act: Act):
        super().__init__(act)
        self.box.insertStretch(0, 1)
        self.box.addWidget(self.notice)
        self.box.addStretch(1)
        self.done = button("primary", lambda: act("face_result_done"))
        self.box.addWidget(self.done)

    def render(self, flow: KioskFlow) -> None:
        super().render(flow)
        self.title.setText(flow.t("slip_title"))
        c = flow.customer
        self.done.setText(flow.t("done"))
        self.done.setEnabled(not (c and c.pending_face))


FACE_PAGES = (EnrolConsentPage, EnrolAgePage, EnrolStartPage, EnrolCapturePage, FaceResultPage)
