"""Fixtures for hardware tests: simulators on real pseudo-terminals and drivers on pyserial."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.card_reader import CardReaderDriver
from hardware.card_reader.simulator import CardReaderSimulator
from hardware.id_reader import IdReaderDriver
from hardware.id_reader.simulator import IdReaderSimulator
from hardware.printer import PrinterDriver
from hardware.printer.simulator import PrinterSimulator
from hardware.transport import SerialTransport
from hardware.transport.pty import PtyPort
from tests.support import wait_until

# Short timeouts keep the fault tests fast: the simulators answer in well under a millisecond.
ACK_TIMEOUT = 0.2
REPLY_TIMEOUT = 0.4


@pytest.fixture
def wait_for() -> Callable[..., object]:
    """wait_for(condition, timeout=5.0): poll a condition instead of sleeping (tests.support.wait_until)."""
    return functools.partial(wait_until, timeout=5.0, interval=0.02)


@pytest.fixture
def card_sim(tmp_path: Path) -> Iterator[CardReaderSimulator]:
    sim = CardReaderSimulator(PtyPort(tmp_path / "card"), seed=1)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def card_driver(card_sim: CardReaderSimulator) -> Iterator[CardReaderDriver]:
    driver = CardReaderDriver(SerialTransport(card_sim.port.name), ack_timeout=ACK_TIMEOUT,
                              reply_timeout=REPLY_TIMEOUT)
    yield driver
    driver.close()


@pytest.fixture
def id_sim(tmp_path: Path) -> Iterator[IdReaderSimulator]:
    sim = IdReaderSimulator(PtyPort(tmp_path / "id"), seed=2)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def id_driver(id_sim: IdReaderSimulator) -> Iterator[IdReaderDriver]:
    driver = IdReaderDriver(SerialTransport(id_sim.port.name), ack_timeout=ACK_TIMEOUT,
                            reply_timeout=REPLY_TIMEOUT)
    yield driver
    driver.close()


@pytest.fixture
def printer_sim(tmp_path: Path) -> Iterator[PrinterSimulator]:
    sim = PrinterSimulator(PtyPort(tmp_path / "printer"), out_dir=tmp_path / "receipts", seed=3)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def printer_driver(printer_sim: PrinterSimulator) -> Iterator[PrinterDriver]:
    driver = PrinterDriver(SerialTransport(printer_sim.port.name), status_timeout=0.2)
    yield driver
    driver.close()
