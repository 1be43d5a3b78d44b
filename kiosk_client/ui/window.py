"""The kiosk window: a top bar (branch, link state, language, large text) over the screen stack."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk_client.core.flow import KioskFlow, Screen
from kiosk_client.ui import screens as s
from kiosk_client.ui.face_screens import FACE_PAGES
from kiosk_client.ui.theme import stylesheet


class KioskWindow(QWidget):
    """Renders the flow; every tap becomes `act(name, *args)` for the composition root."""

    def __init__(self, flow: KioskFlow, act: s.Act):
        super().__init__()
        self.setObjectName("kiosk")
        self.setWindowTitle("smartzone kiosk")
        self.flow = flow
        self.act = act
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        bar = QWidget()
        bar.setObjectName("topbar")
        row = QHBoxLayout(bar)
        self.branch = QLabel()
        self.link = QLabel()
        self.lang_button = QPushButton()
        self.lang_button.clicked.connect(lambda _=False: act("toggle_language"))
        self.elder_button = QPushButton()
        self.elder_button.clicked.connect(lambda _=False: act("toggle_elder"))
        row.addWidget(self.branch)
        row.addStretch(1)
        row.addWidget(self.link)
        row.addWidget(self.elder_button)
        row.addWidget(self.lang_button)
        root.addWidget(bar)
        self.stack = QStackedWidget()
        root.addWidget(self.stack, 1)
        self.pages: dict[Screen, s.Page] = {}
        self._build_pages()
        self._elder: bool | None = None
        self._screen: Screen | None = None
        self.resize(1280, 900)

    def _build_pages(self) -> None:
        for page in (s.AttractPage(self.act), s.BusinessPage(self.act, self.flow), s.IdentifyPage(self.act),
                     s.ConsentPage(self.act), s.RecognisePage(self.act), s.GreetingPage(self.act),
                     s.AppointmentPage(self.act), s.IssuingPage(self.act), s.TicketPage(self.act),
                     s.SurveyPage(self.act), s.NpsPage(self.act), s.ThanksPage(self.act), s.OutOfServicePage(self.act),
                     s.ClosedPage(self.act), *(page(self.act) for page in FACE_PAGES)):
            self.pages[page.screen] = page
            self.stack.addWidget(page)

    def rebuild_business_page(self) -> None:
        """After a config reload the business buttons change."""
        old = self.pages[Screen.BUSINESS]
        new = s.BusinessPage(self.act, self.flow)
        self.stack.insertWidget(self.stack.indexOf(old), new)
        self.stack.removeWidget(old)
        old.deleteLater()
        self.pages[Screen.BUSINESS] = new
        self._screen = None
        self.render()

    @property
    def page(self) -> s.Page:
        return self.pages[self.flow.screen]

    def render(self) -> None:
        flow = self.flow
        if flow.elder != self._elder:
            self._elder = flow.elder
            self.setStyleSheet(stylesheet(flow.elder))
        if flow.screen != self._screen:
            self._screen = flow.screen
            reset = getattr(self.page, "reset", None)
            if reset is not None:
                reset()
        self.branch.setText(flow.branch_label)
        self.link.setText("●" if flow.online else "○")
        self.link.setToolTip("online" if flow.online else "offline")
        self.lang_button.setText(flow.t("lang_switch"))
        self.elder_button.setText(flow.t("elder_off" if flow.elder else "elder_on"))
        self.page.render(flow)
        self.stack.setCurrentWidget(self.page)
