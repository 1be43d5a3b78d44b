"""Looks: a calm standard theme and a large-text, high-contrast elder theme."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "Droid Sans Fallback")


def cjk_family() -> str | None:
    """The first installed font with Chinese glyphs (Debian: fonts-wqy-microhei or fonts-noto-cjk)."""
    families = set(QFontDatabase.families())
    return next((f for f in CJK_FAMILIES if f in families), None)


def apply_font(app: QApplication) -> None:
    family = cjk_family()
    font = QFont(family) if family else app.font()
    font.setPointSize(16)
    app.setFont(font)


def stylesheet(elder: bool) -> str:
    base = 22 if not elder else 32
    big = base * 2
    huge = base * 4
    colours = (("#000000", "#ffffff", "#ffd400", "#000000", "#1a1a1a", "#ffffff") if elder
               else ("#f4f6f8", "#1d2733", "#c8102e", "#ffffff", "#ffffff", "#5b6573"))
    bg, fg, accent, accent_fg, panel, muted = colours
    return f"""
    QWidget#kiosk {{ background: {bg}; }}
    QWidget {{ color: {fg}; font-size: {base}px; }}
    QLabel#title {{ font-size: {big}px; font-weight: bold; }}
    QLabel#huge {{ font-size: {huge}px; font-weight: bold; color: {accent}; }}
    QLabel#muted {{ color: {muted}; }}
    QLabel#notice {{ background: {accent}; color: {accent_fg}; padding: 10px; border-radius: 8px; }}
    QLabel#badge {{ background: #e08a00; color: #000; padding: 4px 10px; border-radius: 6px; }}
    QLabel#field {{ background: {panel}; border: 2px solid {muted}; border-radius: 8px; padding: 8px;
                    font-size: {big}px; min-height: {big + 12}px; }}
    QPushButton {{ background: {panel}; color: {fg}; border: 2px solid {muted}; border-radius: 12px;
                   padding: 14px 22px; min-height: {base * 2}px; }}
    QPushButton:pressed {{ background: {accent}; color: {accent_fg}; }}
    QPushButton#primary {{ background: {accent}; color: {accent_fg}; border-color: {accent};
                           font-weight: bold; }}
    QPushButton#choice {{ font-weight: bold; border-width: 3px; }}
    QPushButton#choice:disabled {{ color: {muted}; border-style: dashed; }}
    QPushButton#chip {{ padding: 8px 14px; min-height: {base + 14}px; }}
    QPushButton#chip:checked, QPushButton#star:checked {{ background: {accent}; color: {accent_fg}; }}
    QPushButton#star {{ font-size: {big}px; min-width: {big + 30}px; }}
    QPushButton#key {{ font-size: {big}px; min-width: {big + 20}px; min-height: {big + 10}px; }}
    QWidget#topbar {{ background: {panel}; }}
    QCheckBox {{ font-size: {base}px; spacing: 14px; }}
    QCheckBox::indicator {{ width: {base + 8}px; height: {base + 8}px; }}
    """
