"""An ESC/POS receipt printer on a pty: answers DLE EOT, decodes what it prints, writes .txt and .png.

Control commands (besides the common ones)::

    paper full|low|out    cover open|close    jam | clear

With `roll_mm` the paper is a roll that each receipt shortens by its length (`receipt_mm`): the near-end sensor
reports `low` once `near_end_mm` are left, and the roll runs `out` at 0. `paper full` puts in a new roll.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from hardware.common.simulator import DevicePort, SerialDeviceSimulator
from hardware.common.status import PaperState
from hardware.printer import protocol as esc
from hardware.printer.render import to_png, to_text

log = logging.getLogger(__name__)

LINE_MM = 4.0    # one text line
QR_MM = 30.0     # a QR code
FEED_MM = 15.0   # feed and cut margin of every receipt


def receipt_mm(receipt: esc.Receipt) -> float:
    """Paper one receipt takes off the roll."""
    return FEED_MM + sum(QR_MM if isinstance(item, esc.QrCode) else LINE_MM for item in receipt.items)


class PrinterSimulator(SerialDeviceSimulator):
    """The device model: paper roll, cover, cutter; receipts kept in `receipts` and optionally on disk."""

    kind = "printer"

    def __init__(self, port: DevicePort, *, out_dir: str | os.PathLike[str] | None = None,
                 png: bool = True, seed: int | None = None, roll_mm: float | None = None,
                 near_end_mm: float = 0.0) -> None:
        super().__init__(port, seed=seed)
        self.roll_mm, self.near_end_mm = roll_mm, near_end_mm
        self.left_mm = roll_mm  # None: an endless roll (paper state only by control command)
        self.decoder = esc.EscPosDecoder()
        self.paper = PaperState.FULL
        self.cover_open = False
        self.jammed = False
        self.receipts: list[esc.Receipt] = []
        self.discarded_bytes = 0
        self.out_dir = Path(out_dir) if out_dir else None
        self.png = png

    def _can_print(self) -> bool:
        return not (self.cover_open or self.jammed or self.paper is PaperState.OUT)

    def on_bytes(self, data: bytes) -> None:
        decoded = self.decoder.feed(data)
        for n in decoded.status_queries:
            status = esc.encode_status(cover_open=self.cover_open, paper=self.paper, jammed=self.jammed)
            if n in status:
                self.send(bytes([status[n]]))
        for receipt in decoded.receipts:
            if not self._can_print():
                # An offline printer prints nothing: what it was sent is lost, as on a real one after reset.
                self.discarded_bytes += sum(len(line) for line in receipt.lines)
                continue
            self.receipts.append(receipt)
            self._save(receipt, len(self.receipts))
            if self.left_mm is not None:
                self.left_mm = max(0.0, self.left_mm - receipt_mm(receipt))
                self._paper_from_roll()

    def _paper_from_roll(self) -> None:
        if self.left_mm is not None and self.left_mm <= 0:
            self.paper = PaperState.OUT
        elif self.left_mm is not None and self.left_mm <= self.near_end_mm:
            self.paper = PaperState.LOW

    def _save(self, receipt: esc.Receipt, n: int) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"{n}.txt").write_text(to_text(receipt), encoding="utf-8")
        if self.png:
            to_png(receipt, self.out_dir / f"{n}.png")
        log.info("receipt %d written to %s", n, self.out_dir)

    def handle_control(self, verb: str, args: list[str], count: int) -> bool:
        arg = args[0].lower() if args else ""
        if verb == "paper":
            try:
                self.paper = PaperState(arg or "full")
            except ValueError as err:
                raise ValueError("paper full|low|out") from err
            if self.roll_mm is not None:  # a new roll, or what is left of this one
                self.left_mm = {PaperState.FULL: self.roll_mm, PaperState.OUT: 0.0}.get(
                    self.paper, min(self.left_mm or 0.0, self.near_end_mm))
        elif verb == "cover":
            self.cover_open = arg != "close"
        elif verb == "jam":
            self.jammed = True
        elif verb == "clear":
            self.jammed = False
        else:
            return False
        return True

    def help(self) -> str:
        return "paper full|low|out, cover open|close, jam, clear, " + super().help()

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "paper": str(self.paper), "coverOpen": self.cover_open,
                "jammed": self.jammed, "receipts": len(self.receipts), "left_mm": self.left_mm}
