"""The ESC/POS receipt printer: queue tickets in Chinese and English, paper and cover status."""

from hardware.printer.driver import PrinterDriver
from hardware.printer.errors import CoverOpenError, PaperOutError, PrinterError, PrinterJammedError
from hardware.printer.receipt import TicketReceipt

__all__ = ["CoverOpenError", "PaperOutError", "PrinterDriver", "PrinterError", "PrinterJammedError",
           "TicketReceipt"]
