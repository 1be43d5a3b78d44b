"""The motorised bank-card reader: magnetic tracks 2 and 3, chip ATR, eject and retain."""

from hardware.card_reader.driver import CardRead, CardReaderDriver, ResetAction
from hardware.card_reader.errors import (
    CardJammedError,
    CardReaderError,
    CommandRejectedError,
    NoCardError,
    RetainBinFullError,
    UnreadableCardError,
)

__all__ = [
    "CardJammedError",
    "CardRead",
    "CardReaderDriver",
    "CardReaderError",
    "CommandRejectedError",
    "NoCardError",
    "ResetAction",
    "RetainBinFullError",
    "UnreadableCardError",
]
