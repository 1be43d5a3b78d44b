"""ESC/POS encoder byte-exact, and the printer driver against its simulator over a real pseudo-terminal."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import cv2
import pytest

from hardware.common.errors import NoDeviceError
from hardware.common.status import DeviceState, PaperState
from hardware.printer import CoverOpenError, PaperOutError, PrinterDriver, PrinterJammedError, TicketReceipt
from hardware.printer import protocol as esc
from hardware.printer.receipt import ticket_bytes
from hardware.printer.simulator import PrinterSimulator
from hardware.transport import SerialTransport

TICKET = TicketReceipt(
    branch_name="中国银行北京朝阳支行", branch_name_en="Chaoyang Branch", ticket_number="A023",
    business_type="个人业务", business_type_en="Personal banking", people_ahead=5, estimated_wait_min=15,
    issued_at=datetime(2026, 11, 28, 10, 32), status_url="https://sz.example/t/b001/A023",
)


def test_encoder_bytes_are_exact() -> None:
    """GIVEN the encoder WHEN each command is built THEN the ESC/POS bytes are as the manual says."""
    assert esc.align("center") == b"\x1ba\x01"
    assert esc.bold(True) == b"\x1bE\x01"
    assert esc.size(4, 4) == b"\x1d!\x33"
    assert esc.feed(3) == b"\x1bd\x03"
    assert esc.text("排队号") == "排队号".encode("gb18030") + b"\n" == b"\xc5\xc5\xb6\xd3\xba\xc5\n"
    assert esc.status_query(4) == b"\x10\x04\x04"
    assert esc.CUT == b"\x1dVB\x00"
    assert esc.qr("hi").endswith(b"\x1d(k\x05\x001P0hi" + b"\x1d(k\x03\x001Q0")
    assert esc.qr("hi").startswith(b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x06\x1d(k\x03\x001E1")


def test_ticket_bytes_frame_a_chinese_receipt() -> None:
    """GIVEN a ticket WHEN laid out THEN it starts with ESC @ FS &, ends with a cut, and holds GB18030
    text."""
    data = ticket_bytes(TICKET)
    assert data.startswith(b"\x1b@\x1c&") and data.endswith(b"\x1c.\x1bd\x03\x1dVB\x00")
    assert "中国银行北京朝阳支行".encode("gb18030") in data
    assert b"A023" in data


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({}, (False, PaperState.FULL)),
        ({"paper": PaperState.LOW}, (False, PaperState.LOW)),
        ({"paper": PaperState.OUT}, (False, PaperState.OUT)),
        ({"cover_open": True}, (True, PaperState.FULL)),
        ({"jammed": True}, (False, PaperState.JAMMED)),
    ],
)
def test_status_bytes_round_trip(state: dict, expected: tuple) -> None:
    """GIVEN a printer condition WHEN encoded as DLE EOT answers and decoded THEN the same condition."""
    s = esc.encode_status(**state)
    assert all(esc.is_status_byte(b) for b in s.values())
    bits = esc.decode_status(s[1], s[2], s[3], s[4])
    assert (bits.cover_open, bits.paper) == expected


def test_decoder_reads_back_a_ticket_split_in_pieces() -> None:
    """GIVEN ticket bytes fed 7 bytes at a time WHEN decoded THEN one receipt with every line and the QR."""
    decoder = esc.EscPosDecoder()
    data = ticket_bytes(TICKET)
    receipts = []
    for i in range(0, len(data), 7):
        receipts += decoder.feed(data[i : i + 7]).receipts
    assert len(receipts) == 1
    lines = receipts[0].lines
    assert "中国银行北京朝阳支行" in lines and "A023" in lines
    assert receipts[0].qr_codes == [TICKET.status_url]
    big = next(item for item in receipts[0].items if getattr(item, "text", "") == "A023")
    assert (big.width, big.height, big.bold, big.align) == (4, 4, True, "center")


def test_status_of_a_ready_printer(printer_driver: PrinterDriver) -> None:
    """GIVEN a printer with paper WHEN status is asked THEN online, paper full, cover closed."""
    status = printer_driver.status()
    assert (status.device, status.paper, status.cover_open) == (DeviceState.ONLINE, PaperState.FULL, False)
    assert status.to_dict() == {"device": "online", "paper": "full", "coverOpen": False, "detail": ""}


def test_printed_ticket_is_what_the_customer_sees(printer_sim: PrinterSimulator,
                                                  printer_driver: PrinterDriver, tmp_path: Path,
                                                  wait_for) -> None:
    """GIVEN a ticket WHEN printed THEN the simulator's text has every field and the PNG's QR decodes
    to the URL."""
    printer_driver.print_ticket(TICKET)
    wait_for(lambda: (tmp_path / "receipts" / "1.png").exists())
    text = (tmp_path / "receipts" / "1.txt").read_text(encoding="utf-8")
    for expected in ("中国银行北京朝阳支行", "A023", "个人业务 Personal banking", "People ahead: 5",
                     "约 15 分钟", "2026-11-28 10:32", "[QR] https://sz.example/t/b001/A023"):
        assert expected in text
    image = cv2.imread(str(tmp_path / "receipts" / "1.png"))
    assert image.shape[1] == 576
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == TICKET.status_url


def test_paper_low_still_prints(printer_sim: PrinterSimulator,
                                printer_driver: PrinterDriver, wait_for) -> None:
    """GIVEN paper near its end WHEN a ticket is printed THEN it prints and the status says low."""
    printer_sim.control("paper low")
    assert printer_driver.print_ticket(TICKET).paper is PaperState.LOW
    wait_for(lambda: len(printer_sim.receipts) == 1)


def test_printing_with_paper_out_fails_fast(printer_sim: PrinterSimulator,
                                            printer_driver: PrinterDriver) -> None:
    """GIVEN no paper WHEN a ticket is printed THEN PaperOutError at once, nothing printed, no hang."""
    printer_sim.control("paper out")
    started = time.monotonic()
    with pytest.raises(PaperOutError, match="out of paper"):
        printer_driver.print_ticket(TICKET)
    assert time.monotonic() - started < 1.0
    assert printer_sim.receipts == []
    assert printer_driver.status().paper is PaperState.OUT


def test_cover_open_and_jam(printer_sim: PrinterSimulator, printer_driver: PrinterDriver) -> None:
    """GIVEN an open cover, then a jam WHEN printing THEN CoverOpenError, then PrinterJammedError
    (hardwareError)."""
    printer_sim.control("cover open")
    status = printer_driver.status()
    assert (status.device, status.cover_open) == (DeviceState.USER_ERROR, True)
    with pytest.raises(CoverOpenError):
        printer_driver.print_test()
    printer_sim.control("cover close")
    printer_sim.control("jam")
    assert printer_driver.status().device is DeviceState.HARDWARE_ERROR
    with pytest.raises(PrinterJammedError):
        printer_driver.print_test()
    printer_sim.control("clear")
    assert printer_driver.print_test().device is DeviceState.ONLINE


def test_silent_printer_is_not_paper_adequate(printer_sim: PrinterSimulator,
                                              printer_driver: PrinterDriver) -> None:
    """GIVEN a printer that does not answer WHEN status is asked THEN hardwareError and paper unknown."""
    printer_sim.control("hang on")
    status = printer_driver.status()
    assert (status.device, status.paper) == (DeviceState.HARDWARE_ERROR, PaperState.UNKNOWN)
    assert "does not answer" in status.detail
    printer_sim.control("hang off")
    assert printer_driver.status().device is DeviceState.ONLINE


def test_line_noise_and_slow_status(printer_sim: PrinterSimulator,
                                    printer_driver: PrinterDriver) -> None:
    """GIVEN line noise and 0.1 s replies WHEN status is asked THEN the garbage is skipped and it is
    online."""
    printer_sim.control("noise 4")
    printer_sim.control("slow 0.1")
    status = printer_driver.status()
    assert (status.device, status.paper) == (DeviceState.ONLINE, PaperState.FULL)


def test_unplug_and_replug(printer_sim: PrinterSimulator,
                           printer_driver: PrinterDriver, wait_for) -> None:
    """GIVEN a working printer WHEN unplugged THEN noDevice and printing raises NoDeviceError; replug
    recovers."""
    assert printer_driver.status().device is DeviceState.ONLINE
    printer_sim.control("unplug")
    assert printer_driver.status().device is DeviceState.NO_DEVICE
    with pytest.raises(NoDeviceError):
        printer_driver.print_ticket(TICKET)
    printer_sim.control("replug")
    wait_for(lambda: printer_driver.status().device is DeviceState.ONLINE)
    printer_driver.print_ticket(TICKET)
    wait_for(lambda: len(printer_sim.receipts) == 1)


def test_missing_port(tmp_path: Path) -> None:
    """GIVEN no such port WHEN status is asked THEN noDevice."""
    driver = PrinterDriver(SerialTransport(str(tmp_path / "nope")), status_timeout=0.1)
    assert driver.status().device is DeviceState.NO_DEVICE
