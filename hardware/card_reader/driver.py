"""CardReaderDriver: the kiosk's API for the motorised card reader."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import IntEnum

from hardware.card_reader import protocol as p
from hardware.card_reader.errors import (
    CardJammedError,
    CardReaderError,
    CommandRejectedError,
    NoCardError,
    RetainBinFullError,
    UnreadableCardError,
)
from hardware.common.errors import HardwareError
from hardware.common.framing import Command, Reply
from hardware.common.identity import keyed_hash, mask_card
from hardware.common.link import FramedDriver
from hardware.common.status import CardReaderStatus, DeviceState, MediaState, RetainBinState
from hardware.transport.base import Transport

log = logging.getLogger(__name__)

_ERRORS: dict[bytes, type[CardReaderError]] = {
    p.E_JAMMED: CardJammedError,
    p.E_NO_CARD: NoCardError,
    p.E_NO_TRACK_DATA: UnreadableCardError,
    p.E_TRACK_PARITY: UnreadableCardError,
    p.E_CHIP_MUTE: UnreadableCardError,
    p.E_BIN_FULL: RetainBinFullError,
}


class ResetAction(IntEnum):
    """What a reset does with a card inside."""

    KEEP = 0
    EJECT = 1
    RETAIN = 2


@dataclass(frozen=True, slots=True)
class CardRead:
    """What was read from a bank card. The clear PAN is here for the caller; repr never shows it."""

    pan: str = field(repr=False)
    expiry: str = field(repr=False)
    track2: str = field(repr=False)
    track3: str | None = field(default=None, repr=False)
    atr: bytes | None = None

    @property
    def masked(self) -> str:
        """First 6 and last 4 digits."""
        return mask_card(self.pan)

    @property
    def has_chip(self) -> bool:
        return self.atr is not None

    def keyed_hash(self, key: bytes | str) -> str:
        """HMAC-SHA256 of the PAN with the branch key: how a card is recognised without storing it."""
        return keyed_hash(self.pan, key)

    def public(self, key: bytes | str) -> dict[str, object]:
        """What may leave the kiosk: masked number, keyed hash, chip flag and ATR. Never the PAN."""
        return {"masked": self.masked, "hash": self.keyed_hash(key), "chip": self.has_chip,
                "atr": self.atr.hex() if self.atr is not None else None}


class CardReaderDriver(FramedDriver):
    """Drives a card reader over any transport; commands raise HardwareError subclasses, status() never does.

    Timeouts: `ack_timeout` for the ACK of each try, `reply_timeout` for the answer
    (motor moves take time).
    """

    def __init__(self, transport: Transport, *, retries: int = 3, ack_timeout: float = 0.5,
                 reply_timeout: float = 5.0) -> None:
        super().__init__(transport, retries=retries, ack_timeout=ack_timeout, reply_timeout=reply_timeout)
        self.media = MediaState.UNKNOWN
        self.retain_bin = RetainBinState.UNKNOWN

    def _command(self, command: Command) -> Reply:
        reply = self._exchange(command)
        if reply.positive:
            self.media, self.retain_bin = p.status_codes(reply)
            return reply
        code = reply.code
        error_type = _ERRORS.get(code, CommandRejectedError)
        text = p.ERROR_TEXT.get(code, "refused")
        if code == p.E_JAMMED:
            self.media = MediaState.JAMMED
        elif code == p.E_NO_CARD:
            self.media = MediaState.NOT_PRESENT
        elif code == p.E_BIN_FULL:
            self.retain_bin = RetainBinState.FULL
        err = error_type(f"{self.transport.name}: {text} (code {reply.error})", code=reply.error,
                         state=DeviceState.HARDWARE_ERROR if code == p.E_HARDWARE else None)
        self._failed(err)
        raise err

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> CardReaderStatus:
        """The reader's XFS4IoT-style status; a dead or silent reader gives noDevice/hardwareError."""
        try:
            data = p.parse_status(self._command(p.status()))
        except HardwareError as err:
            return CardReaderStatus(device=err.state, media=MediaState.UNKNOWN,
                                    retain_bin=RetainBinState.UNKNOWN, detail=str(err))
        except ValueError as err:
            self.state = DeviceState.HARDWARE_ERROR
            log.warning("%s: %s", self.transport.name, err)
            return CardReaderStatus(device=DeviceState.HARDWARE_ERROR, detail=str(err))
        device = DeviceState.HARDWARE_ERROR if data.media is MediaState.JAMMED else DeviceState.ONLINE
        self.state = device
        return CardReaderStatus(device=device, media=data.media, retain_bin=data.retain_bin,
                                retained_count=data.retained_count, entry_enabled=data.entry_enabled)

    # -- commands ---------------------------------------------------------------------------------
    def reset(self, action: ResetAction = ResetAction.KEEP) -> CardReaderStatus:
        """Reset the mechanism (and eject or retain a card inside); returns the status after."""
        self._command(p.reset(int(action)))
        return self.status()

    def enable_entry(self) -> None:
        """Open the shutter so a customer can insert a card."""
        self._command(p.entry(True))

    def disable_entry(self) -> None:
        self._command(p.entry(False))

    def read_track(self, track: int) -> str:
        """The characters of magnetic track 2 or 3; UnreadableCardError if blank or corrupt."""
        return self._command(p.read_track(track)).data.decode("ascii", "replace")

    def read_chip_atr(self) -> bytes:
        """Power the chip and return its Answer To Reset; UnreadableCardError if it does not answer."""
        atr = self._command(p.chip_on()).data
        try:
            self._command(p.chip_off())
        except CardReaderError as err:  # the ATR is already in hand
            log.info("%s: chip power-off refused: %s", self.transport.name, err)
        return atr

    def read_card(self) -> CardRead:
        """Read track 2 (required), track 3 and the chip ATR (when present) of the card inside."""
        track2 = self.read_track(2)
        try:
            pan, expiry = p.parse_track2(track2)
        except ValueError as err:
            raise UnreadableCardError(f"{self.transport.name}: {err}", code="31") from err
        try:
            track3: str | None = self.read_track(3)
        except UnreadableCardError:
            track3 = None
        try:
            atr: bytes | None = self.read_chip_atr()
        except UnreadableCardError:
            atr = None
        self.state = DeviceState.ONLINE
        return CardRead(pan=pan, expiry=expiry, track2=track2, track3=track3, atr=atr)

    def eject(self) -> None:
        """Move the card to the gate for the customer to take."""
        self._command(p.eject())

    def retain(self) -> None:
        """Capture the card into the retain bin; RetainBinFullError if it is full."""
        self._command(p.retain())
