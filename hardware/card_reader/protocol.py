"""Card reader command set on the framed link (see hardware.common.framing and docs/hardware/card-reader.md).

======  ====  ============================================  =========================================
CM      PM    command                                       positive reply data
======  ====  ============================================  =========================================
``0``   0/1/2 reset: keep card / eject it / retain it       ―
``1``   0     status                                        entry flag ``0|1``, retained count (4
                                                            digits), bin capacity (4 digits)
``2``   0/1   card entry: enable / disable                  ―
``3``   2/3   read magnetic track 2 / track 3               track characters (ASCII, no sentinels)
``4``   0/1   chip: power on and return ATR / power off     ATR bytes
``5``   0     eject the card to the gate                    ―
``6``   0     retain (capture) the card into the bin        ―
======  ====  ============================================  =========================================

Positive replies carry ST1 (media) and ST0 (retain bin); negative replies carry an error code.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.common.framing import Command, Reply
from hardware.common.status import MediaState, RetainBinState

CM_RESET, CM_STATUS, CM_ENTRY, CM_READ_TRACK, CM_CHIP, CM_EJECT, CM_RETAIN = (ord(c) for c in "0123456")

# ST1: where the card is.
MEDIA_CODES: dict[bytes, MediaState] = {
    b"0": MediaState.NOT_PRESENT,
    b"1": MediaState.ENTERING,  # at the gate: being inserted, or ejected and not yet taken
    b"2": MediaState.PRESENT,
    b"3": MediaState.JAMMED,
}
# ST0: retain bin fill level.
BIN_CODES: dict[bytes, RetainBinState] = {b"0": RetainBinState.OK, b"1": RetainBinState.HIGH,
                                          b"2": RetainBinState.FULL}

# Negative reply error codes.
E_UNKNOWN_COMMAND = b"00"
E_BAD_PARAMETER = b"01"
E_JAMMED = b"10"
E_NO_CARD = b"20"
E_NO_TRACK_DATA = b"30"
E_TRACK_PARITY = b"31"
E_CHIP_MUTE = b"40"
E_BIN_FULL = b"50"
E_HARDWARE = b"60"

ERROR_TEXT = {
    E_UNKNOWN_COMMAND: "unknown command",
    E_BAD_PARAMETER: "bad parameter",
    E_JAMMED: "card jammed",
    E_NO_CARD: "no card in the reader",
    E_NO_TRACK_DATA: "no data on the track",
    E_TRACK_PARITY: "track parity/LRC error",
    E_CHIP_MUTE: "chip does not answer",
    E_BIN_FULL: "retain bin full",
    E_HARDWARE: "hardware failure",
}


def reset(action: int = 0) -> Command:
    """Reset; action 0 keeps the card, 1 ejects it, 2 retains it."""
    return Command(CM_RESET, ord("0") + action)


def status() -> Command:
    return Command(CM_STATUS, ord("0"))


def entry(enable: bool) -> Command:
    return Command(CM_ENTRY, ord("0") if enable else ord("1"))


def read_track(track: int) -> Command:
    if track not in (2, 3):
        raise ValueError("only tracks 2 and 3 are read")
    return Command(CM_READ_TRACK, ord(str(track)))


def chip_on() -> Command:
    return Command(CM_CHIP, ord("0"))


def chip_off() -> Command:
    return Command(CM_CHIP, ord("1"))


def eject() -> Command:
    return Command(CM_EJECT, ord("0"))


def retain() -> Command:
    return Command(CM_RETAIN, ord("0"))


@dataclass(frozen=True, slots=True)
class StatusData:
    """The decoded data of a positive status reply."""

    media: MediaState
    retain_bin: RetainBinState
    entry_enabled: bool
    retained_count: int
    bin_capacity: int


def status_codes(reply: Reply) -> tuple[MediaState, RetainBinState]:
    """Media and retain-bin state from a positive reply's ST1 ST0."""
    return (MEDIA_CODES.get(reply.code[0:1], MediaState.UNKNOWN),
            BIN_CODES.get(reply.code[1:2], RetainBinState.UNKNOWN))


def parse_status(reply: Reply) -> StatusData:
    """Decode a positive status reply; ValueError if malformed."""
    if not reply.positive or len(reply.data) != 9 or not reply.data[1:].isdigit():
        raise ValueError(f"malformed status reply: {reply.text()!r}")
    media, retain_bin = status_codes(reply)
    return StatusData(media, retain_bin, reply.data[0:1] == b"1", int(reply.data[1:5]), int(reply.data[5:9]))


def encode_status(media: bytes, bin_code: bytes, entry_enabled: bool, retained: int, capacity: int) -> Reply:
    """The device's status reply (used by the simulator and byte-exact tests)."""
    data = (b"1" if entry_enabled else b"0") + f"{retained:04d}{capacity:04d}".encode()
    return Reply(CM_STATUS, ord("0"), True, media + bin_code, data)


def luhn_ok(number: str) -> bool:
    """The Luhn check digit test every bank card number passes."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def parse_track2(track: str) -> tuple[str, str]:
    """(PAN, expiry YYMM) from ISO 7813 track 2 data `PAN=YYMM…`; ValueError if it is not a card."""
    body = track.strip().lstrip(";").rstrip("?")
    pan, sep, rest = body.replace("D", "=").partition("=")
    if not sep or not 12 <= len(pan) <= 19 or not luhn_ok(pan) or len(rest) < 4 or not rest[:4].isdigit():
        raise ValueError("track 2 does not hold a valid card number")
    return pan, rest[:4]
