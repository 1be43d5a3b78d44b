"""The byte-moving contract every transport keeps."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hardware.common.errors import NoDeviceError


class TransportError(NoDeviceError):
    """The port could not be opened, or failed under us: the device is gone until it reopens."""


@runtime_checkable
class Transport(Protocol):
    """Moves bytes; opens lazily so a driver recovers when the device comes back."""

    name: str

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None:
        """Open the port; raises TransportError if it cannot."""

    def close(self) -> None:
        """Close the port; never raises."""

    def write(self, data: bytes) -> None:
        """Write all bytes; raises TransportError when the port is gone or stuck."""

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Up to max_bytes, waiting at most `timeout` s for the first; b"" on timeout."""

    def discard_input(self) -> None:
        """Drop bytes already received (stale replies, line noise)."""
