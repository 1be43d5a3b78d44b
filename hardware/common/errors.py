"""Errors every driver raises, each carrying the XFS4IoT device state it leaves behind."""

from __future__ import annotations

from hardware.common.status import DeviceState


class HardwareError(Exception):
    """Base of every error a driver raises; `state` is the device state after it."""

    state: DeviceState = DeviceState.HARDWARE_ERROR

    def __init__(self, message: str, *, state: DeviceState | None = None) -> None:
        super().__init__(message)
        if state is not None:
            self.state = state


class NoDeviceError(HardwareError):
    """The port cannot be opened or vanished (unplugged, wrong name, permission)."""

    state = DeviceState.NO_DEVICE


class DeviceTimeoutError(HardwareError):
    """The device did not answer in time, even after retries."""


class ProtocolError(HardwareError):
    """The device answered, but with garbage, bad checksums or an unexpected frame."""


class UserError(HardwareError):
    """A condition a customer or staff member can fix: no card, paper out, cover open."""

    state = DeviceState.USER_ERROR
