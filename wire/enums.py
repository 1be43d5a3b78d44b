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


class ErrorAction(StrEnum):
    """XFS4IoT Common.ErrorEvent.action: what it takes to clear a fault, hence who is sent."""

    RESET = "reset"                    # a reset (remote restart) may clear it
    SOFTWARE_ERROR = "softwareError"   # software must be fixed
    CONFIGURATION = "configuration"    # configuration must be fixed
    CLEAR = "clear"                    # staff on site clear it (paper, a jam, the retain bin)
    MAINTENANCE = "maintenance"        # an engineer must repair the device


class OfflineReason(StrEnum):
    """Why a device went offline, as its state message says."""

    SHUTDOWN = "shutdown"  # a clean goodbye: the device stopped on purpose
    LOST = "lost"          # the last will: the broker lost the connection (crash, power, network)


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
