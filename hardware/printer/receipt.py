"""The queue ticket layout, in Chinese (GB18030) and English, as ESC/POS bytes (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hardware.printer import protocol as esc


@dataclass(frozen=True, slots=True)
class TicketReceipt:
    """What a queue ticket shows."""

    branch_name: str
    ticket_number: str
    business_type: str
    people_ahead: int
    estimated_wait_min: int | None  # the median (P50); None: unknown
    issued_at: datetime
    status_url: str
    branch_name_en: str = ""
    business_type_en: str = ""
    estimated_wait_max_min: int | None = None  # the range's upper end (P90); None or equal: one number
    note: str = ""  # e.g. the kind of priority, both languages


def wait_line(low: int | None, high: int | None) -> str:
    """The estimate as the customer reads it: a P50–P90 range, one number when they agree, or no promise."""
    if low is None:
        return "预计等待 Estimated wait: 请留意叫号 / listen for your number"
    if high is not None and high > low:
        return f"预计等待 Estimated wait: {low}–{high} 分钟 / {low}–{high} min"
    return f"预计等待 Estimated wait: 约 {low} 分钟 / about {low} min"


def ticket_bytes(ticket: TicketReceipt) -> bytes:
    """The whole ticket, from ESC @ to the cut."""
    out = bytearray()
    out += esc.INIT + esc.CHINESE_ON + esc.align("center")
    out += esc.bold(True) + esc.size(2, 2) + esc.text(ticket.branch_name) + esc.size() + esc.bold(False)
    if ticket.branch_name_en:
        out += esc.text(ticket.branch_name_en)
    out += esc.text("-" * esc.COLUMNS)
    out += esc.text("排队号 Queue number")
    out += esc.bold(True) + esc.size(4, 4) + esc.text(ticket.ticket_number) + esc.size() + esc.bold(False)
    business = ticket.business_type + (f" {ticket.business_type_en}" if ticket.business_type_en else "")
    out += esc.bold(True) + esc.size(1, 2) + esc.text(business) + esc.size() + esc.bold(False)
    out += esc.align("left")
    if ticket.note:
        out += esc.align("center") + esc.bold(True) + esc.text(ticket.note) + esc.bold(False) + esc.align("left")
    out += esc.text(f"前面等候 People ahead: {ticket.people_ahead}")
    out += esc.text(wait_line(ticket.estimated_wait_min, ticket.estimated_wait_max_min))
    out += esc.text(f"取号时间 Time: {ticket.issued_at:%Y-%m-%d %H:%M}")
    out += esc.align("center") + esc.feed(1)
    out += esc.qr(ticket.status_url)
    out += esc.text("扫码查看排队进度 Scan for live queue status")
    out += esc.text("请留意叫号 Please listen for your number")
    out += esc.CHINESE_OFF + esc.feed(3) + esc.CUT
    return bytes(out)


@dataclass(frozen=True, slots=True)
class NoteReceipt:
    """A slip without a queue number: a title and lines, each in Chinese and English."""

    branch_name: str
    title: tuple[str, str]
    lines: tuple[tuple[str, str], ...]


def note_bytes(note: NoteReceipt) -> bytes:
    out = bytearray()
    out += esc.INIT + esc.CHINESE_ON + esc.align("center")
    out += esc.bold(True) + esc.text(note.branch_name) + esc.size(1, 2) + esc.text(note.title[0]) + esc.size()
    out += esc.text(note.title[1]) + esc.bold(False) + esc.text("-" * esc.COLUMNS) + esc.align("left")
    for zh, en in note.lines:
        out += esc.text(zh) + esc.text(en)
    out += esc.text(f"{datetime.now():%Y-%m-%d %H:%M}")
    out += esc.CHINESE_OFF + esc.feed(3) + esc.CUT
    return bytes(out)


def test_page_bytes(port: str) -> bytes:
    """A short test receipt for `smartzone hw print-test`."""
    return (esc.INIT + esc.CHINESE_ON + esc.align("center") + esc.bold(True) + esc.size(2, 2)
            + esc.text("打印测试 TEST") + esc.size() + esc.bold(False) + esc.align("left")
            + esc.text(f"Port: {port}") + esc.text(f"Time: {datetime.now():%Y-%m-%d %H:%M:%S}")
            + esc.text("中文 GB18030: 欢迎光临") + esc.text("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            + esc.CHINESE_OFF + esc.feed(3) + esc.CUT)
