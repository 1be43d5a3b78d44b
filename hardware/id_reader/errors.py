"""ID reader errors: the same family as the card reader's."""

from hardware.card_reader.errors import (
    CardReaderError,
    CommandRejectedError,
    NoCardError,
    UnreadableCardError,
)

__all__ = ["CardReaderError", "CommandRejectedError", "NoCardError", "UnreadableCardError"]
