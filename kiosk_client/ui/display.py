"""The lobby calling screen: the current call large, recent calls, waiting per business, spoken calls."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from device_hub.link.mqtt import BrokerUrl
from kiosk_client.core.board import Board, announcement
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

    def __init__(self, branch: BranchConfig, *, speaker: Speaker | None = None, recent: int = 6):
        super().__init__()
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
        self.head_now = _cell("请到窗口办理  Now serving", "head")
        self.now = _cell("—", "now")
        self.counter = _cell("", "counter")
        for w in (self.head_now, self.now, self.counter):
            root.addWidget(w)
        root.addWidget(_cell("最近叫号  Recent calls", "head"))
        self.recent_grid = QGridLayout()
        self.recent = [_cell("", "recent") for _ in range(recent)]
        for i, w in enumerate(self.recent):
            self.recent_grid.addWidget(w, i // 3, i % 3)
        root.addLayout(self.recent_grid)
        root.addWidget(_cell("等候人数  Waiting", "head"))
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
        self.render()

    @Slot(object)
    def on_board(self, data: QueueBoardData) -> None:
        self.model.apply_board(data)
        self.render()
        self.board_shown.emit()

    @Slot(object)
    def on_call(self, data: QueueCallData) -> None:
        call = self.model.apply_call(data)
        self.render()
        if self.speaker is not None:
            zh, en = announcement(call)
            self.speaker.say(zh, "zh")
            QTimer.singleShot(3500, lambda: self.speaker.say(en, "en"))

    @Slot(bool)
    def on_connected(self, online: bool) -> None:
        self.online = online
        self.render()

    def render(self) -> None:
        current = self.model.current
        self.now.setText(current.ticket if current else "—")
        self.counter.setText(f"{current.counter} 号窗口  Counter {current.counter}" if current else "")
        older = self.model.calls[1:]
        for i, w in enumerate(self.recent):
            w.setText(f"{older[i].ticket} → {older[i].counter}" if i < len(older) else "")
        for b in self.branch.business_types:
            n = self.model.waiting.get(b.code)
            self.waiting[b.code].setText(f"{b.name.zh}\n{b.name.en}\n{n if n is not None else '–'}")
        self.link.setText("●" if self.online else "○ offline")
        self.paused.setText("\n".join(f"{zh}  {en}" for zh, en in self.model.paused))


def run_display(url: BrokerUrl, branch: BranchConfig, *, windowed: bool, speech: bool,
                screenshot: Path | None = None, settle_s: float = 1.5) -> int:
    """`smartzone display`; with `screenshot`, save one PNG after the retained board arrived (or settle_s)."""
    from kiosk_client.workers.board import BoardListener

    app = QApplication.instance() or QApplication([])
    apply_font(app)
    speaker = Speaker(enabled=speech and screenshot is None).start()
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
