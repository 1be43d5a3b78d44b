"""Identity hygiene: a card or ID identifies one customer session only, then must leave the reader.

A reader is armed only after its media status has shown the reader empty; a read disarms it. So a card
left in the gate or on the antenna is never read again for the next customer, and a card found in the
reader at start-up (whose is it?) is not read until it has been taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.common.status import MediaState


@dataclass
class MediaGate:
    """One reader's rule; the worker feeds it every media status it polls."""

    armed: bool = False

    def observe(self, media: MediaState) -> bool:
        """Record a media status; True when this one re-armed the reader (the card was just taken)."""
        if media is MediaState.NOT_PRESENT and not self.armed:
            self.armed = True
            return True
        return False

    def may_read(self) -> bool:
        return self.armed

    def used(self) -> None:
        """A card was read (or tried): the next read waits until the reader has been seen empty."""
        self.armed = False
