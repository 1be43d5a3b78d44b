"""The paper forecast learns from a real printer (the ESC/POS simulator on a pty, through the real driver) and
opens the refill order before the printer's own near-end sensor reports low."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hardware.common.status import PaperState
from hardware.printer import PaperOutError, PrinterDriver, TicketReceipt
from hardware.printer.simulator import PrinterSimulator
from hardware.transport import SerialTransport
from hardware.transport.pty import PtyPort
from server.devices.scheduled import forecast_paper, learn_paper, rollup
from server.ingest.records import EventRecord
from server.ingest.service import store_batch
from tests.devices.helpers import active_alarms, device, orders

pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

MONDAY = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai (b001)
EVERY = timedelta(minutes=12)  # a customer prints a ticket every 12 minutes while the branch is open
TICKET = TicketReceipt(branch_name="青山县支行", branch_name_en="Qingshan County Branch", ticket_number="A001",
                       business_type="存取款", business_type_en="Deposit", people_ahead=2, estimated_wait_min=5,
                       issued_at=datetime(2026, 11, 16, 9, 0), status_url="https://sz.example/t/b001/A001")


class Kiosk:
    """What the kiosk does around its printer: print, report each paper change, count each use."""

    def __init__(self, factory, sim: PrinterSimulator, driver: PrinterDriver):
        self.factory, self.sim, self.driver = factory, sim, driver
        self.seq, self.paper = 0, None

    def send(self, type_: str, data: dict, at: datetime) -> None:
        self.seq += 1
        with self.factory() as s, s.begin():
            store_batch(s, [EventRecord.of(id=str(uuid.uuid4()), branch="b001", device="k1", seq=self.seq,
                                           type=type_, ts=at, data=data)], now=at)

    def report(self, at: datetime) -> PaperState:
        paper = self.driver.status().paper
        if paper != self.paper:
            self.paper = paper
            self.send("status", {"component": "printer", "device": "userError" if paper is PaperState.OUT
                                 else "online", "paper": str(paper),
                                 **({"action": "clear"} if paper is not PaperState.FULL else {})}, at)
        return paper

    def ticket(self, at: datetime) -> PaperState:
        try:
            self.driver.print_ticket(TICKET)
            outcome = "ok"
        except PaperOutError:
            outcome = "failed"
        self.send("usage_session", {"session_id": uuid.uuid4().hex, "function": "ticket",
                                    "started_at": (at - timedelta(minutes=1)).isoformat(), "ended_at": at.isoformat(),
                                    "outcome": outcome}, at)
        paper = self.report(at)
        if paper is PaperState.OUT:  # staff refill it a few minutes later
            self.sim.handle_control("paper", ["full"], 0)
            self.report(at + timedelta(minutes=3))
        return paper


def test_forecast_opens_the_refill_order_before_the_printer_reports_low(migrated, tmp_path: Path):
    """GIVEN a kiosk printer whose roll lasts 16 tickets (its near-end sensor trips after 12), used every 12 minutes
    on a Monday: two rolls run out and are refilled, a third is started
    WHEN the next Monday it prints on, with the forecast job after every ticket
    THEN the forecast has learned 12 tickets to low and 16 to out from the printer's own rolls, and opens the
    refill order (reason: forecast) while the printer still reports full paper; when the sensor then says low, the
    PAPER_LOW alarm joins that order instead of opening another."""
    _engine, factory = migrated
    sim = PrinterSimulator(PtyPort(tmp_path / "printer"), png=False, roll_mm=1500, near_end_mm=400)
    sim.start()
    driver = PrinterDriver(SerialTransport(sim.port.name), status_timeout=0.3)
    try:
        kiosk = Kiosk(factory, sim, driver)
        kiosk.send("state", {"online": True, "session": 1, "components": ["printer"]}, MONDAY - timedelta(minutes=5))
        kiosk.report(MONDAY - timedelta(minutes=4))
        at = MONDAY
        for _ in range(40):  # 09:00-17:00: rolls 1 and 2 run out, roll 3 begins
            kiosk.ticket(at)
            at += EVERY
        with factory() as s, s.begin():
            rollup(s, MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=9))

        at = MONDAY + timedelta(days=7)
        learn_paper(factory, at)
        model = device(factory).paper_model
        assert (model["to_low"], model["to_out"], model["rolls"]) == (12, 16, 2)
        opened_at = None
        while sim.paper is PaperState.FULL:
            paper = kiosk.ticket(at)
            with factory() as s, s.begin():
                forecast_paper(s, at)
            [*refills] = [o for o in orders(factory) if o.task == "refill_paper" and o.status == "open"]
            if refills and opened_at is None:
                opened_at, printer_then = at, paper
            at += EVERY
        assert opened_at is not None and printer_then is PaperState.FULL, "no order before the sensor said low"
        [order] = [o for o in orders(factory) if o.status == "open"]
        assert order.reason.startswith("forecast: paper low") and order.opened_at == opened_at
        assert order.due_at <= device(factory).paper_out_at + timedelta(seconds=1)
        assert at - opened_at >= 2 * EVERY  # told at least two tickets ahead
        assert active_alarms(factory)["PAPER_LOW"].work_order_id == order.id
    finally:
        driver.close()
        sim.stop()
