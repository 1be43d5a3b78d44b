"""The peripherals the kiosk drives, as small interfaces, and how to open them from the config.

The drivers are hardware's; a `sim` port starts hardware's simulator on a pseudo-terminal, so the
real pyserial code path runs in the demo and in tests.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hardware.common.status import CardReaderStatus, PrinterStatus
from hardware.printer.receipt import TicketReceipt
from szconfig.kiosk import KioskConfig, SerialPortConfig

log = logging.getLogger(__name__)


class CardReader(Protocol):
    def status(self) -> CardReaderStatus: ...
    def enable_entry(self) -> None: ...
    def disable_entry(self) -> None: ...
    def read_card(self) -> Any: ...
    def eject(self) -> None: ...
    def close(self) -> None: ...


class IdReader(Protocol):
    def status(self) -> CardReaderStatus: ...
    def card_present(self) -> bool: ...
    def read_identity(self) -> Any: ...
    def close(self) -> None: ...


class Printer(Protocol):
    def status(self) -> PrinterStatus: ...
    def print_ticket(self, ticket: TicketReceipt) -> PrinterStatus: ...
    def print_test(self) -> PrinterStatus: ...
    def print_raw(self, data: bytes) -> PrinterStatus: ...
    def close(self) -> None: ...


@dataclass
class Peripherals:
    """Opened drivers (None when not fitted) and the simulators behind `sim` ports."""

    card_reader: CardReader | None = None
    id_reader: IdReader | None = None
    printer: Printer | None = None
    simulators: dict[str, Any] = field(default_factory=dict)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for dev in (self.card_reader, self.id_reader, self.printer):
            if dev is not None:
                try:
                    dev.close()
                except Exception as err:  # closing is best effort
                    log.debug("closing %s: %s", dev, err)
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()


def _sim_port(kind: str, workdir: Path, out_dir: Path | None) -> tuple[Any, str]:
    from hardware.transport.pty import PtyPort

    port = PtyPort(workdir / f"{kind}.tty")
    if kind == "card_reader":
        from hardware.card_reader.simulator import CardReaderSimulator
        sim: Any = CardReaderSimulator(port)
    elif kind == "id_reader":
        from hardware.id_reader.simulator import IdReaderSimulator
        sim = IdReaderSimulator(port)
    else:
        from hardware.printer.simulator import PrinterSimulator
        sim = PrinterSimulator(port, out_dir=out_dir, png=out_dir is not None)
    sim.start()
    return sim, str(port.link)


def open_peripherals(config: KioskConfig, *, sim_dir: Path | None = None, receipts_dir: Path | None = None,
                     reply_timeout: float = 2.0) -> Peripherals:
    """Open the configured ports (drivers open lazily, so a missing device shows as noDevice, not a crash)."""
    from hardware.card_reader.driver import CardReaderDriver
    from hardware.id_reader.driver import IdReaderDriver
    from hardware.printer.driver import PrinterDriver
    from hardware.transport import open_transport

    out = Peripherals()
    workdir = Path(sim_dir or tempfile.mkdtemp(prefix="smartzone-kiosk-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def port_name(kind: str, cfg: SerialPortConfig) -> str:
        if not cfg.simulated:
            return cfg.port
        from hardware.common.simulator import ControlServer

        sim, name = _sim_port(kind, workdir, receipts_dir)
        out.simulators[kind] = sim
        out._stops.append(sim.stop)
        control = ControlServer(sim, workdir / f"{kind}.sock").start()  # e.g. `insert bank` from a shell
        out._stops.append(control.stop)
        log.warning("simulated %s on %s; control socket %s", kind, name, control.address)
        return name

    if config.card_reader.fitted:
        t = open_transport(port_name("card_reader", config.card_reader), baudrate=config.card_reader.baudrate)
        out.card_reader = CardReaderDriver(t, retries=2, ack_timeout=0.3, reply_timeout=reply_timeout)
    if config.id_reader.fitted:
        t = open_transport(port_name("id_reader", config.id_reader), baudrate=config.id_reader.baudrate)
        out.id_reader = IdReaderDriver(t, retries=2, ack_timeout=0.3, reply_timeout=reply_timeout)
    if config.printer.fitted:
        t = open_transport(port_name("printer", config.printer), baudrate=config.printer.baudrate)
        out.printer = PrinterDriver(t, status_timeout=0.3, retries=2)
    return out
