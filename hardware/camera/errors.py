"""Camera errors."""

from hardware.common.errors import NoDeviceError


class CameraUnavailableError(NoDeviceError):
    """The camera source cannot be opened or stopped delivering frames."""
