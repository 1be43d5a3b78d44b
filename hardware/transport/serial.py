"""Serial ports through pyserial: device names, pty slaves and pyserial URLs alike."""

from __future__ import annotations

import logging

import serial

from hardware.transport.base import TransportError

log = logging.getLogger(__name__)

try:  # termios.error is no OSError; pyserial lets it escape from tcflush/tcsetattr after a hang-up
    from termios import error as _TermiosError
except ImportError:  # pragma: no cover - Windows
    class _TermiosError(Exception):  # type: ignore[no-redef]
        pass

# TypeError: pyserial's in_waiting ioctl on a closed fd after a hang-up.
PORT_ERRORS = (serial.SerialException, OSError, _TermiosError, TypeError)


class SerialTransport:
    """A pyserial port that opens on first use and closes itself when the device vanishes."""

    def __init__(self, port: str, *, baudrate: int = 9600, write_timeout: float = 2.0) -> None:
        self.name = port
        self._baudrate = baudrate
        self._write_timeout = write_timeout
        self._serial: serial.SerialBase | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def open(self) -> None:
        if self.is_open:
            return
        try:
            port = serial.serial_for_url(
                self.name, baudrate=self._baudrate, timeout=0, write_timeout=self._write_timeout,
                do_not_open=True,
            )
            port.open()
            port.reset_input_buffer()
        except (*PORT_ERRORS, ValueError) as err:
            raise TransportError(f"cannot open {self.name}: {err}") from err
        self._serial = port
        log.info("opened %s", self.name)

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS as err:  # pragma: no cover - best effort
                log.debug("closing %s: %s", self.name, err)

    def _port(self) -> serial.SerialBase:
        if not self.is_open:
            self.open()
        assert self._serial is not None
        return self._serial

    def _fail(self, what: str, err: Exception) -> TransportError:
        log.warning("%s on %s failed: %s", what, self.name, err)
        self.close()
        return TransportError(f"{what} on {self.name} failed: {err}")

    def write(self, data: bytes) -> None:
        port = self._port()
        try:
            port.write(data)
            port.flush()
        except serial.SerialTimeoutException as err:
            raise self._fail("write (device not accepting data)", err) from err
        except PORT_ERRORS as err:
            raise self._fail("write", err) from err

    def read(self, max_bytes: int, timeout: float) -> bytes:
        port = self._port()
        try:
            port.timeout = max(timeout, 0.0)
            first = port.read(1)
            if not first:
                return b""
            port.timeout = 0
            rest = port.read(max(0, min(max_bytes - 1, port.in_waiting)))
        except PORT_ERRORS as err:
            raise self._fail("read", err) from err
        return first + rest

    def discard_input(self) -> None:
        if not self.is_open:
            return
        try:
            assert self._serial is not None
            self._serial.reset_input_buffer()
        except PORT_ERRORS as err:
            raise self._fail("flush", err) from err
