"""Status vocabularies, after CEN XFS4IoT, as they travel on the wire."""

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


class Component(StrEnum):
    """The peripherals a kiosk reports on."""

    KIOSK = "kiosk"
    CARD_READER = "cardReader"
    ID_READER = "idReader"
    PRINTER = "printer"
    CAMERA = "camera"
    DISPLAY = "display"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    ABANDONED = "abandoned"
