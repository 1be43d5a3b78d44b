"""Status vocabularies after CEN XFS4IoT, with the same strings as device_hub.protocol.enums."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceState(StrEnum):
    """XFS4IoT Common.Status.device."""

    ONLINE = "online"
    OFFLINE = "offline"
    POWER_OFF = "powerOff"
    NO_DEVICE = "noDevice"
    HARDWARE_ERROR = "hardwareError"
    USER_ERROR = "userError"
    DEVICE_BUSY = "deviceBusy"


class PaperState(StrEnum):
    """XFS4IoT Printer.Status.paper."""

    FULL = "full"
    LOW = "low"
    OUT = "out"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


class MediaState(StrEnum):
    """XFS4IoT CardReader.Status.media."""

    PRESENT = "present"
    NOT_PRESENT = "notPresent"
    JAMMED = "jammed"
    ENTERING = "entering"
    UNKNOWN = "unknown"


class RetainBinState(StrEnum):
    """XFS4IoT CardReader retain bin (ok, high, full)."""

    OK = "ok"
    HIGH = "high"
    FULL = "full"
    UNKNOWN = "unknown"


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
