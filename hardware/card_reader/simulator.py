"""A motorised card reader that speaks the framed protocol over a pty (or loopback).

Control commands (besides the common ones)::

    insert bank|chip|magstripe|unreadable|id   a card at the gate (pulled in when entry is enabled)
    take                                       the customer takes a card from the gate
    jam | clear                                jam the transport / staff clear it
    bin N                                      set the retain bin count (capacity 50, high at 40)
    fail | repair                              hardware failure on every motor command
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hardware.card_reader import protocol as p
from hardware.common.framing import Command, Reply
from hardware.common.simulator import DevicePort, FramedDeviceSimulator


@dataclass(frozen=True, slots=True)
class SimCard:
    """A card the simulator can hold."""

    label: str
    track2: str | None
    track3: str | None
    atr: bytes | None


TEST_PAN = "6222021234567890128"  # Luhn-valid, a test number only
CARDS: dict[str, SimCard] = {
    "bank": SimCard("bank", f"{TEST_PAN}=2812101000000000", f"99{TEST_PAN}=1561560000000000000003000000",
                    bytes.fromhex("3B6800000073C84013009000")),
    "chip": SimCard("chip", f"{TEST_PAN}=2812101000000000", None, bytes.fromhex("3B6800000073C84013009000")),
    "magstripe": SimCard("magstripe", "4000001234567899=2709201000000000", None, None),
    "unreadable": SimCard("unreadable", None, None, None),
}


class CardReaderSimulator(FramedDeviceSimulator):
    """The device model: a card at the gate or inside, a shutter, a retain bin and faults."""

    kind = "card-reader"
    bin_capacity = 50
    bin_high = 40

    def __init__(self, port: DevicePort, *, seed: int | None = None) -> None:
        super().__init__(port, seed=seed)
        self.card: SimCard | None = None
        self.position = "none"  # none | gate | inside
        self.entry_enabled = False
        self.jammed = False
        self.failed = False
        self.retained = 0
        self.retained_cards: list[str] = []
        self.chip_powered = False

    # -- device model -----------------------------------------------------------------------------
    def _media(self) -> bytes:
        if self.jammed:
            return b"3"
        return {"none": b"0", "gate": b"1", "inside": b"2"}[self.position]

    def _bin(self) -> bytes:
        if self.retained >= self.bin_capacity:
            return b"2"
        return b"1" if self.retained >= self.bin_high else b"0"

    def _ok(self, command: Command, data: bytes = b"") -> Reply:
        return Reply(command.cm, command.pm, True, self._media() + self._bin(), data)

    @staticmethod
    def _no(command: Command, code: bytes) -> Reply:
        return Reply(command.cm, command.pm, False, code)

    def _pull_in(self) -> None:
        if self.entry_enabled and self.position == "gate" and self.card is not None:
            self.position = "inside"

    def handle(self, command: Command) -> Reply:
        cm, pm = command.cm, command.pm
        moves = cm in (p.CM_RESET, p.CM_EJECT, p.CM_RETAIN)
        if self.failed and moves:
            return self._no(command, p.E_HARDWARE)
        if cm == p.CM_STATUS:
            return p.encode_status(self._media(), self._bin(), self.entry_enabled, self.retained,
                                   self.bin_capacity)
        if cm == p.CM_RESET:
            if pm not in b"012":
                return self._no(command, p.E_BAD_PARAMETER)
            if self.jammed:
                return self._no(command, p.E_JAMMED)
            self.chip_powered = False
            if self.position == "inside" and pm == ord("1"):
                self.position = "gate"
            elif self.position == "inside" and pm == ord("2"):
                return self._retain(command)
            return self._ok(command)
        if cm == p.CM_ENTRY:
            if pm not in b"01":
                return self._no(command, p.E_BAD_PARAMETER)
            self.entry_enabled = pm == ord("0")
            self._pull_in()
            return self._ok(command)
        if self.jammed:
            return self._no(command, p.E_JAMMED)
        if cm == p.CM_READ_TRACK:
            if pm not in b"23":
                return self._no(command, p.E_BAD_PARAMETER)
            if self.position != "inside" or self.card is None:
                return self._no(command, p.E_NO_CARD)
            track = self.card.track2 if pm == ord("2") else self.card.track3
            if track is None:
                return self._no(command, p.E_TRACK_PARITY if self.card.label == "unreadable" else
                                p.E_NO_TRACK_DATA)
            return self._ok(command, track.encode("ascii"))
        if cm == p.CM_CHIP:
            if self.position != "inside" or self.card is None:
                return self._no(command, p.E_NO_CARD)
            if pm == ord("1"):
                self.chip_powered = False
                return self._ok(command)
            if self.card.atr is None:
                return self._no(command, p.E_CHIP_MUTE)
            self.chip_powered = True
            return self._ok(command, self.card.atr)
        if cm == p.CM_EJECT:
            if self.position != "inside":
                return self._no(command, p.E_NO_CARD)
            self.position = "gate"
            return self._ok(command)
        if cm == p.CM_RETAIN:
            if self.position != "inside":
                return self._no(command, p.E_NO_CARD)
            return self._retain(command)
        return self._no(command, p.E_UNKNOWN_COMMAND)

    def _retain(self, command: Command) -> Reply:
        if self.retained >= self.bin_capacity:
            return self._no(command, p.E_BIN_FULL)
        self.retained += 1
        self.retained_cards.append(self.card.label if self.card else "?")
        self.card, self.position = None, "none"
        return self._ok(command)

    # -- control ----------------------------------------------------------------------------------
    def handle_control(self, verb: str, args: list[str], count: int) -> bool:
        if verb == "insert":
            label = args[0].lower() if args else "bank"
            if label not in CARDS:
                raise ValueError(f"no such card {label!r}; one of {', '.join(CARDS)}")
            if self.position != "none":
                raise ValueError("a card is already in the reader")
            self.card, self.position = CARDS[label], "gate"
            self._pull_in()
        elif verb in ("take", "remove"):
            if self.position == "gate":
                self.card, self.position = None, "none"
        elif verb == "jam":
            self.jammed = True
        elif verb == "clear":
            self.jammed = False
            self.card, self.position = None, "none"
        elif verb == "bin":
            self.retained = max(0, min(int(args[0]) if args else 0, self.bin_capacity))
        elif verb == "fail":
            self.failed = True
        elif verb == "repair":
            self.failed = False
        else:
            return False
        return True

    def help(self) -> str:
        return ("insert bank|chip|magstripe|unreadable, take, jam, clear, bin N, fail, repair, "
                + super().help())

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "card": self.card.label if self.card else None,
            "position": self.position,
            "entryEnabled": self.entry_enabled,
            "jammed": self.jammed,
            "retained": self.retained,
            "binCapacity": self.bin_capacity,
        }
