"""Card reader errors; each says what state the reader is in afterwards."""

from __future__ import annotations

from hardware.common.errors import HardwareError
from hardware.common.status import DeviceState


class CardReaderError(HardwareError):
    """A command the reader refused; the device itself still works unless `state` says otherwise."""

    state = DeviceState.ONLINE

    def __init__(self, message: str, *, code: str = "", state: DeviceState | None = None) -> None:
        super().__init__(message, state=state)
        self.code = code


class CardJammedError(CardReaderError):
    """The card is stuck in the transport: staff must clear it."""

    state = DeviceState.HARDWARE_ERROR


class NoCardError(CardReaderError):
    """There is no card in the reader to read, eject or retain."""


class UnreadableCardError(CardReaderError):
    """Neither track nor chip gave usable data: ask for another card."""


class RetainBinFullError(CardReaderError):
    """The retain bin is full: the card cannot be captured, staff must empty the bin."""


class CommandRejectedError(CardReaderError):
    """Any other negative reply."""
