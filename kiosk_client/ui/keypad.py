"""Our own on-screen keypad: the kiosk has no keyboard and PySide6-Essentials has no virtual one."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I and O: they read as 1 and 0
CLEAR = "✕"  # not "C": that is a letter of appointment codes


class Keypad(QWidget):
    """Digits (and optionally capital letters) with delete and clear; `value` is what was typed."""

    changed = Signal(str)

    def __init__(self, *, letters: bool = False, max_len: int = 12, parent: QWidget | None = None):
        super().__init__(parent)
        self.max_len = max_len
        self.value = ""
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setSpacing(8)
        keys = [*DIGITS, "⌫", "0", CLEAR]
        for i, key in enumerate(keys):
            self._add(grid, key, i // 3, i % 3)
        if letters:
            for i, key in enumerate(LETTERS):
                self._add(grid, key, i // 6, 3 + i % 6)

    def _add(self, grid: QGridLayout, key: str, row: int, col: int) -> None:
        button = QPushButton(key)
        button.setObjectName("key")
        button.clicked.connect(lambda _=False, k=key: self.press(k))
        grid.addWidget(button, row, col)
        self.buttons[key] = button

    def press(self, key: str) -> None:
        if key == "⌫":
            self.value = self.value[:-1]
        elif key == CLEAR:
            self.value = ""
        elif len(self.value) < self.max_len:
            self.value += key
        self.changed.emit(self.value)

    def clear(self) -> None:
        self.value = ""
        self.changed.emit(self.value)
