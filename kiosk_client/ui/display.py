"""The lobby calling screen: the current call large, recent calls, waiting and the wait per business, spoken calls.

Every call is spoken, in Chinese then English, in the order it came (a recall again, saying so); the
Speaker queues them and coalesces only an exact repeat still waiting. The screen's words alternate
between Chinese and English every `alternate_s` seconds; business names show in both.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from device_hub.link.mqtt import BrokerUrl
from kiosk_client.core.board import LABELS, Board, announcement
from kiosk_client.services.speech import Speaker
from kiosk_client.ui.theme import apply_font
from szconfig.branch import BranchConfig
from wire.messages import QueueBoardData, QueueCallData

STYLE = """
QWidget#display { background: #0b1d33; }
QWidget { color: #ffffff; font-size: 28px; }
QLabel#now { font-size: 120px; font-weight: bold; color: #ffd400; }
QLabel#counter { font-size: 64px; font-weight: bold; }
QLabel#head { font-size: 30px; color: #9fb3c8; }
QLabel#recent { font-size: 40px; }
"""


def _cell(text: str = "", name: str = "") -> QLabel:
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    w.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return w


class LobbyDisplay(QWidget):
    """Renders a Board; `on_board`/`on_call` are slots for the listener's signals (emitted on paho's thread)."""

    board_shown = Signal()

    def __init__(self, branch: BranchConfig, *, speaker: Speaker | None = None, recent: int = 6,
                 alternate_s: float = 8.0):
        super().__init__()
        if speaker is not None and speaker.enabled and speaker.latest_only:
            raise ValueError("the lobby display needs a Speaker(latest_only=False): calls are never dropped")
        self.lang = "zh"
        self.setObjectName("display")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(f"smartzone display {branch.id}")
        self.branch = branch
        self.speaker = speaker
        self.model = Board(keep=recent + 1)
        self.online = False
        root = QVBoxLayout(self)
        title = QHBoxLayout()
        self.title = _cell(f"{branch.name.zh}  {branch.name.en}", "head")
        self.link = _cell("", "head")
        title.addWidget(self.title, 1)
        title.addWidget(self.link)
        root.addLayout(title)
        self.head_now = _cell("", "head")
        self.now = _cell("—", "now")
        self.counter = _cell("", "counter")
        for w in (self.head_now, self.now, self.counter):
            root.addWidget(w)
        self.head_recent = _cell("", "head")
        root.addWidget(self.head_recent)
        self.recent_grid = QGridLayout()
        self.recent = [_cell("", "recent") for _ in range(recent)]
        for i, w in enumerate(self.recent):
            self.recent_grid.addWidget(w, i // 3, i % 3)
        root.addLayout(self.recent_grid)
        self.head_waiting = _cell("", "head")
        root.addWidget(self.head_waiting)
        self.waiting_row = QHBoxLayout()
        self.waiting: dict[str, QLabel] = {}
        for b in branch.business_types:
            w = _cell()
            self.waiting[b.code] = w
            self.waiting_row.addWidget(w)
        root.addLayout(self.waiting_row)
        self.paused = _cell("", "head")  # counters paused now (lunch, meeting, …), from the board
        root.addWidget(self.paused)
        root.addStretch(1)
        self.resize(1920, 1080)
        self.alternation = QTimer(self)
        self.alternation.timeout.connect(self.alternate)
        if alternate_s > 0:
            self.alternation.start(int(alternate_s * 1000))
        self.render()

    @Slot()
    def alternate(self) -> None:
        """Switch the screen's words to the other language."""
        self.lang = "en" if self.lang == "zh" else "zh"
        self.render()

    @Slot(object)
    def on_board(self, data: QueueBoardData) -> None:
        self.model.apply_board(data)
        self.render()
        self.board_shown.emit()

    @Slot(object)
    def on_call(self, data: QueueCallData) -> None:
        self.model.apply_call(data)
        self.render()
        if self.speaker is not None:  # queued in order: a burst of calls is spoken in full, never dropped
            zh, en = announcement(data)
            self.speaker.say(zh, "zh")
            self.speaker.say(en, "en")

    @Slot(bool)
    def on_connected(self, online: bool) -> None:
        self.online = online
        self.render()

    def render(self) -> None:
        words = LABELS[self.lang]
        current = self.model.current
        self.head_now.setText(words["now"])
        self.head_recent.setText(words["recent"])
        self.head_waiting.setText(words["waiting"])
        self.now.setText(current.ticket if current else "—")
        self.counter.setText(words["counter"].format(n=current.counter) if current else "")
        older = self.model.calls[1:]
        for i, w in enumerate(self.recent):
            w.setText(f"{older[i].ticket} → {older[i].counter}" if i < len(older) else "")
        for b in self.branch.business_types:
            self.waiting[b.code].setText(f"{b.name.zh}\n{b.name.en}\n{self.model.waiting_text(b.code, self.lang)}")
        self.link.setText("●" if self.online else words["offline"])
        self.paused.setText("\n".join(f"{zh}  {en}" for zh, en in self.model.paused))  # both, like business names


def run_display(url: BrokerUrl, branch: BranchConfig, *, windowed: bool, speech: bool,
                screenshot: Path | None = None, settle_s: float = 1.5) -> int:
    """`smartzone display`; with `screenshot`, save one PNG after the retained board arrived (or settle_s)."""
    from kiosk_client.workers.board import BoardListener

    app = QApplication.instance() or QApplication([])
    apply_font(app)
    speaker = Speaker(enabled=speech and screenshot is None, latest_only=False).start()
    view = LobbyDisplay(branch, speaker=speaker)
    listener = BoardListener(url, branch.id)
    listener.board.connect(view.on_board)
    listener.call.connect(view.on_call)
    listener.connected_changed.connect(view.on_connected)
    listener.start()
    if screenshot is not None:
        def shoot() -> None:
            view.grab().save(str(screenshot), "PNG")
            app.quit()

        view.board_shown.connect(lambda: QTimer.singleShot(200, shoot))  # emitted on the GUI thread
        QTimer.singleShot(int(settle_s * 1000), shoot)
    elif windowed:
        view.show()
    else:
        view.showFullScreen()
    code = app.exec()
    listener.stop()
    speaker.stop()
    return code
