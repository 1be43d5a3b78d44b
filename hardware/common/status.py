"""A card reader's and a printer's status as drivers report it, in the wire contract's XFS4IoT vocabularies."""

from __future__ import annotations

from dataclasses import dataclass

from wire.enums import DeviceState, MediaState, PaperState, RetainBinState

__all__ = ["CardReaderStatus", "DeviceState", "MediaState", "PaperState", "PrinterStatus", "RetainBinState"]


@dataclass(frozen=True, slots=True)
class CardReaderStatus:
    """A card or ID reader's status as the kiosk reports it."""

    device: DeviceState
    media: MediaState = MediaState.UNKNOWN
    retain_bin: RetainBinState = RetainBinState.UNKNOWN
    retained_count: int | None = None
    entry_enabled: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON shape used by `smartzone hw card-status --json` and the kiosk's status events."""
        return {
            "device": str(self.device),
            "media": str(self.media),
            "retainBin": str(self.retain_bin),
            "retainedCount": self.retained_count,
            "entryEnabled": self.entry_enabled,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """A receipt printer's status from DLE EOT real-time queries."""

    device: DeviceState
    paper: PaperState = PaperState.UNKNOWN
    cover_open: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """The JSON shape used by `smartzone hw printer-status --json` and the kiosk's status events."""
        return {
            "device": str(self.device),
            "paper": str(self.paper),
            "coverOpen": self.cover_open,
            "detail": self.detail,
        }
