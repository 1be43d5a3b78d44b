"""Printer errors: each tells the kiosk what to show and staff what to fix."""

from __future__ import annotations

from hardware.common.errors import HardwareError, UserError
from hardware.common.status import DeviceState


class PrinterError(HardwareError):
    """Base for printer errors."""


class PaperOutError(PrinterError, UserError):
    """No paper: nothing was printed (or the roll ran out mid-receipt); staff must load paper."""

    state = DeviceState.ONLINE


class CoverOpenError(PrinterError, UserError):
    """The cover is open: close it and print again."""


class PrinterJammedError(PrinterError):
    """Paper is jammed at the cutter: staff must clear it."""
