"""ESC/POS: a small encoder for what our receipts use, real-time status (DLE EOT), and a decoder.

Our own encoder rather than python-escpos: byte-exact output we test, GB18030 text behind
``FS &`` (python-escpos sends raw GBK with no code-page command), and status queries that
report "no answer" instead of "paper adequate".

Real-time status ``DLE EOT n`` (0x10 0x04 n) answers one byte ``0b0xx1xx10``:

==  ===========================  ==================================================
n   query                        bits used
==  ===========================  ==================================================
1   printer status               3: offline
2   offline cause                2: cover open, 5: stopped by paper end, 6: error
3   error cause                  2: mechanical error, 3: autocutter error (paper jam),
                                 5: unrecoverable, 6: auto-recoverable
4   roll paper sensor            2+3: paper near end, 5+6: paper end
==  ===========================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.common.status import PaperState

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A

INIT = b"\x1b@"
CHINESE_ON = b"\x1c&"
CHINESE_OFF = b"\x1c."
CUT = b"\x1dVB\x00"  # feed to the cutter and partial cut
ENCODING = "gb18030"
COLUMNS = 48  # 80 mm paper, font A


def align(where: str) -> bytes:
    """ESC a n: left, center or right."""
    return bytes([ESC, ord("a"), {"left": 0, "center": 1, "right": 2}[where]])


def bold(on: bool) -> bytes:
    return bytes([ESC, ord("E"), 1 if on else 0])


def size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: character magnification 1..8 in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("magnification is 1..8")
    return bytes([GS, ord("!"), (width - 1) << 4 | (height - 1)])


def feed(lines: int) -> bytes:
    return bytes([ESC, ord("d"), lines])


def text(value: str) -> bytes:
    """A line of text in GB18030 (ASCII stays ASCII), ending in LF."""
    return value.encode(ENCODING) + b"\n"


def _gs_k(fn: int, payload: bytes) -> bytes:
    body = bytes([49, fn]) + payload  # cn = 49: QR code
    return bytes([GS, ord("("), ord("k")]) + len(body).to_bytes(2, "little") + body


def qr(data: str, module: int = 6, ec: str = "M") -> bytes:
    """GS ( k: select model 2, module size, error correction, store the data, print it."""
    level = {"L": 48, "M": 49, "Q": 50, "H": 51}[ec]
    return (_gs_k(65, bytes([50, 0])) + _gs_k(67, bytes([module])) + _gs_k(69, bytes([level]))
            + _gs_k(80, b"0" + data.encode("utf-8")) + _gs_k(81, b"0"))


def status_query(n: int) -> bytes:
    """DLE EOT n."""
    return bytes([DLE, EOT, n])


def is_status_byte(value: int) -> bool:
    """Status bytes have bits 1 and 4 set, bits 0 and 7 clear."""
    return value & 0x93 == 0x12


@dataclass(frozen=True, slots=True)
class StatusBits:
    """The four real-time status bytes decoded."""

    offline: bool
    cover_open: bool
    paper_end_stop: bool
    error: bool
    jammed: bool
    unrecoverable: bool
    paper: PaperState


def decode_status(s1: int, s2: int, s3: int, s4: int) -> StatusBits:
    jammed = bool(s3 & 0x0C)
    if jammed:
        paper = PaperState.JAMMED
    elif s4 & 0x60 or s2 & 0x20:
        paper = PaperState.OUT
    elif s4 & 0x0C:
        paper = PaperState.LOW
    else:
        paper = PaperState.FULL
    return StatusBits(offline=bool(s1 & 0x08), cover_open=bool(s2 & 0x04), paper_end_stop=bool(s2 & 0x20),
                      error=bool(s2 & 0x40), jammed=jammed, unrecoverable=bool(s3 & 0x20), paper=paper)


def encode_status(*, cover_open: bool = False, paper: PaperState = PaperState.FULL,
                  jammed: bool = False) -> dict[int, int]:
    """The four status bytes a printer in this condition answers (used by the simulator)."""
    out = paper is PaperState.OUT
    offline = cover_open or out or jammed
    s1 = 0x12 | (0x08 if offline else 0)
    s2 = 0x12 | (0x04 if cover_open else 0) | (0x20 if out else 0) | (0x40 if jammed else 0)
    s3 = 0x12 | (0x08 if jammed else 0)
    s4 = 0x12 | (0x0C if paper is PaperState.LOW else 0) | (0x60 if out else 0)
    return {1: s1, 2: s2, 3: s3, 4: s4}


# -- decoding what a host sent (the simulator's side) ------------------------------------------------
@dataclass
class Line:
    """One printed line with the style it was printed in."""

    text: str
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1


@dataclass
class QrCode:
    data: str
    module: int = 6
    align: str = "center"


@dataclass
class Receipt:
    """Everything printed up to a cut."""

    items: list[Line | QrCode] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [item.text if isinstance(item, Line) else f"[QR] {item.data}" for item in self.items]

    @property
    def qr_codes(self) -> list[str]:
        return [item.data for item in self.items if isinstance(item, QrCode)]


@dataclass
class Decoded:
    """What one feed() found: status queries to answer now, receipts completed by a cut."""

    status_queries: list[int] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)


class EscPosDecoder:
    """Turns an ESC/POS byte stream back into lines, QR codes and cuts; tolerant of split writes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._reset_style()
        self._line = bytearray()
        self._line_style: tuple[str, bool, int, int] | None = None
        self._qr_data = ""
        self._qr_module = 6
        self.receipt = Receipt()

    def _reset_style(self) -> None:
        self.align, self.bold, self.width, self.height = "left", False, 1, 1

    def _flush_line(self) -> None:
        style = self._line_style or (self.align, self.bold, self.width, self.height)
        self.receipt.items.append(Line(bytes(self._line).decode(ENCODING, "replace"), *style))
        self._line.clear()
        self._line_style = None

    def feed(self, data: bytes) -> Decoded:
        self._buf += data
        out = Decoded()
        buf = self._buf
        while buf:
            used = self._step(buf, out)
            if used == 0:
                break
            del buf[:used]
        return out

    def _step(self, buf: bytearray, out: Decoded) -> int:
        b = buf[0]
        if b >= 0x20:
            end = next((i for i, x in enumerate(buf) if x < 0x20), len(buf))
            if self._line_style is None:
                self._line_style = (self.align, self.bold, self.width, self.height)
            self._line += buf[:end]
            return end
        if b == LF:
            self._flush_line()
            return 1
        if b in (DLE, ESC, GS, FS) and len(buf) < 2:
            return 0
        if b == DLE:
            if buf[1] != EOT:
                return 1
            if len(buf) < 3:
                return 0
            out.status_queries.append(buf[2])
            return 3
        if b == FS:
            return 2  # FS & / FS . : Chinese mode on/off; we always decode GB18030
        if b == ESC:
            cmd = buf[1]
            if cmd == ord("@"):
                self._reset_style()
                return 2
            if len(buf) < 3:
                return 0
            arg = buf[2]
            if cmd == ord("a"):
                self.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(
                    arg, "left")
            elif cmd == ord("E"):
                self.bold = bool(arg & 1)
            elif cmd == ord("d"):
                if self._line:
                    self._flush_line()
                for _ in range(arg):
                    self._flush_line()
            elif cmd not in (ord("t"), ord("!"), ord("-"), ord("M")):
                out.unknown.append(bytes(buf[:3]))
            return 3
        if b == GS:
            cmd = buf[1]
            if cmd == ord("!"):
                if len(buf) < 3:
                    return 0
                self.width, self.height = (buf[2] >> 4) + 1, (buf[2] & 0x0F) + 1
                return 3
            if cmd == ord("V"):
                if len(buf) < 3:
                    return 0
                used = 4 if buf[2] in (65, 66) else 3
                if len(buf) < used:
                    return 0
                if self._line:
                    self._flush_line()
                while self.receipt.items and isinstance(self.receipt.items[-1], Line) \
                        and not self.receipt.items[-1].text:
                    self.receipt.items.pop()
                out.receipts.append(self.receipt)
                self.receipt = Receipt()
                return used
            if cmd == ord("(") and len(buf) >= 5 and buf[2] == ord("k"):
                length = int.from_bytes(buf[3:5], "little")
                if len(buf) < 5 + length:
                    return 0
                body = bytes(buf[5 : 5 + length])
                if len(body) >= 2 and body[0] == 49:
                    if body[1] == 67 and len(body) > 2:
                        self._qr_module = body[2]
                    elif body[1] == 80:
                        self._qr_data = body[3:].decode("utf-8", "replace")
                    elif body[1] == 81:
                        self.receipt.items.append(QrCode(self._qr_data, self._qr_module, self.align))
                return 5 + length
            if cmd == ord("(") and len(buf) < 5:
                return 0
            out.unknown.append(bytes(buf[:2]))
            return 2
        return 1  # CR, HT and other control bytes: ignored
