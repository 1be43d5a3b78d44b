"""Transports move bytes and know nothing of commands: serial (any pyserial port or URL) and loopback."""

from hardware.transport.base import Transport, TransportError
from hardware.transport.loopback import LoopbackTransport
from hardware.transport.serial import SerialTransport

__all__ = ["LoopbackTransport", "SerialTransport", "Transport", "TransportError"]


def open_transport(port: str, *, baudrate: int = 9600, write_timeout: float = 2.0) -> Transport:
    """A transport for a port name or pyserial URL (`/dev/ttyUSB0`, `COM3`, `socket://host:4001`, `loop://`)."""
    return SerialTransport(port, baudrate=baudrate, write_timeout=write_timeout)
