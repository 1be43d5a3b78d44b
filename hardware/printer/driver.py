"""PrinterDriver: real-time status and printing for an ESC/POS receipt printer over any transport."""

from __future__ import annotations

import logging
import threading
import time

from hardware.common.errors import DeviceTimeoutError, HardwareError, NoDeviceError
from hardware.common.status import DeviceState, PaperState, PrinterStatus
from hardware.printer import protocol as esc
from hardware.printer.errors import CoverOpenError, PaperOutError, PrinterError, PrinterJammedError
from hardware.printer.receipt import TicketReceipt, test_page_bytes, ticket_bytes
from hardware.transport.base import Transport

log = logging.getLogger(__name__)


class PrinterDriver:
    """Status from DLE EOT 1-4 (no answer is never "paper adequate"); printing refuses when it cannot print.

    status() never raises; print_* raise PrinterError subclasses, NoDeviceError or DeviceTimeoutError.
    """

    def __init__(self, transport: Transport, *, status_timeout: float = 0.5, retries: int = 2,
                 chunk: int = 512) -> None:
        self.transport = transport
        self.status_timeout = status_timeout
        self.retries = retries
        self.chunk = chunk
        self.state = DeviceState.OFFLINE
        self.last_error = ""
        self._lock = threading.Lock()

    def _query(self, n: int) -> int:
        for attempt in range(1, self.retries + 1):
            self.transport.discard_input()
            self.transport.write(esc.status_query(n))
            deadline = time.monotonic() + self.status_timeout
            while (remaining := deadline - time.monotonic()) > 0:
                data = self.transport.read(64, remaining)
                valid = [b for b in data if esc.is_status_byte(b)]
                if len(valid) != len(data):
                    log.warning("%s: discarded %d garbage bytes", self.transport.name, len(data) - len(valid))
                if valid:
                    return valid[-1]
            log.warning("%s: no answer to DLE EOT %d (try %d/%d)", self.transport.name, n, attempt,
                        self.retries)
        raise DeviceTimeoutError(f"{self.transport.name}: printer does not answer status queries")

    def _read_status(self) -> PrinterStatus:
        s1, s2, s3, s4 = (self._query(n) for n in (1, 2, 3, 4))
        bits = esc.decode_status(s1, s2, s3, s4)
        if bits.jammed or bits.unrecoverable:
            device = DeviceState.HARDWARE_ERROR
        elif bits.cover_open:
            device = DeviceState.USER_ERROR
        else:
            device = DeviceState.ONLINE
        return PrinterStatus(device=device, paper=bits.paper, cover_open=bits.cover_open)

    def status(self) -> PrinterStatus:
        """Device, paper and cover state; noDevice when the port is gone, hardwareError when silent."""
        with self._lock:
            try:
                status = self._read_status()
            except HardwareError as err:
                self._failed(err)
                return PrinterStatus(device=err.state, detail=str(err))
        if self.state is not status.device:
            log.info("%s: printer %s (paper %s)", self.transport.name, status.device, status.paper)
        self.state, self.last_error = status.device, ""
        return status

    def _failed(self, err: HardwareError) -> None:
        self.state, self.last_error = err.state, str(err)
        log.warning("%s: %s -> %s", self.transport.name, err, err.state)

    @staticmethod
    def _check(status: PrinterStatus) -> None:
        if status.device is DeviceState.NO_DEVICE:
            raise NoDeviceError(status.detail or "printer not connected")
        if status.paper is PaperState.JAMMED:
            raise PrinterJammedError("paper jammed at the cutter: clear the jam")
        if status.cover_open:
            raise CoverOpenError("printer cover is open: close it")
        if status.paper is PaperState.OUT:
            raise PaperOutError("printer is out of paper: load a new roll")
        if status.device is not DeviceState.ONLINE:
            raise PrinterError(status.detail or f"printer is {status.device}", state=status.device)

    def print_raw(self, data: bytes) -> PrinterStatus:
        """Print ESC/POS bytes after checking the printer can; confirm with a status query afterwards."""
        self._check(self.status())
        with self._lock:
            try:
                for start in range(0, len(data), self.chunk):
                    self.transport.write(data[start : start + self.chunk])
            except HardwareError as err:
                self._failed(err)
                raise
        after = self.status()
        if after.paper is PaperState.OUT:
            raise PaperOutError("paper ran out while printing: load paper and print the receipt again")
        self._check(after)
        return after

    def print_ticket(self, ticket: TicketReceipt) -> PrinterStatus:
        """Print a queue ticket; raises PaperOutError/CoverOpenError/… rather than waiting."""
        return self.print_raw(ticket_bytes(ticket))

    def print_test(self) -> PrinterStatus:
        return self.print_raw(test_page_bytes(self.transport.name))

    def close(self) -> None:
        self.transport.close()
