"""Shared pieces: drivers also run over the loopback transport."""

from __future__ import annotations

from hardware.card_reader import CardReaderDriver
from hardware.card_reader.simulator import CardReaderSimulator
from hardware.common.status import DeviceState, MediaState
from hardware.transport import LoopbackTransport


def test_card_reader_over_loopback(wait_for) -> None:
    """GIVEN the simulator on an in-memory loopback WHEN the driver reads a card and the link is cut
    THEN the same behaviour as on a pty: card read, then noDevice, then recovery."""
    host, device = LoopbackTransport.pair("card")
    sim = CardReaderSimulator(device).start()
    try:
        driver = CardReaderDriver(host, ack_timeout=0.2, reply_timeout=0.4)
        driver.enable_entry()
        sim.control("insert bank")
        assert driver.status().media is MediaState.PRESENT
        assert driver.read_card().masked == "622202*********0128"
        host.unplug()
        assert driver.status().device is DeviceState.NO_DEVICE
        host.replug()
        assert wait_for(lambda: driver.status().device is DeviceState.ONLINE)
    finally:
        sim.stop()
