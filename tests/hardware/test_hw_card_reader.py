"""Card reader driver against the simulator over a real pseudo-terminal: every command and every fault."""

from __future__ import annotations

import logging
import time

import pytest

from hardware.card_reader import (
    CardJammedError,
    CardReaderDriver,
    NoCardError,
    ResetAction,
    RetainBinFullError,
    UnreadableCardError,
)
from hardware.card_reader.simulator import TEST_PAN, CardReaderSimulator
from hardware.common.errors import DeviceTimeoutError, NoDeviceError
from hardware.common.status import DeviceState, MediaState, RetainBinState
from hardware.transport import SerialTransport


def test_status_of_an_idle_reader(card_driver: CardReaderDriver) -> None:
    """GIVEN an idle reader WHEN status is asked THEN online, no card, bin ok with 0 cards, entry disabled."""
    status = card_driver.status()
    assert status.device is DeviceState.ONLINE
    assert status.media is MediaState.NOT_PRESENT
    assert status.retain_bin is RetainBinState.OK and status.retained_count == 0
    assert status.entry_enabled is False
    assert status.to_dict()["retainBin"] == "ok"


def test_card_waits_at_the_gate_until_entry_is_enabled(card_sim: CardReaderSimulator,
                                                       card_driver: CardReaderDriver) -> None:
    """GIVEN entry disabled WHEN a card is inserted THEN it stays entering; enabling entry pulls it in."""
    card_sim.control("insert bank")
    assert card_driver.status().media is MediaState.ENTERING
    card_driver.enable_entry()
    assert card_driver.status().media is MediaState.PRESENT
    card_driver.disable_entry()
    assert card_driver.status().entry_enabled is False


def test_read_bank_card_tracks_and_chip(card_sim: CardReaderSimulator,
                                        card_driver: CardReaderDriver) -> None:
    """GIVEN a chip bank card inside WHEN read THEN PAN, expiry, track 3 and ATR; repr hides the PAN."""
    card_driver.enable_entry()
    card_sim.control("insert bank")
    card = card_driver.read_card()
    assert card.pan == TEST_PAN and card.expiry == "2812"
    assert card.track3 is not None and card.track3.startswith("99")
    assert card.atr == bytes.fromhex("3B6800000073C84013009000")
    assert TEST_PAN not in repr(card)
    public = card.public(b"k")
    assert public["masked"] == "622202*********0128" and TEST_PAN not in str(public)
    assert card_driver.read_track(2).startswith(TEST_PAN)
    assert card_driver.read_chip_atr() == card.atr


def test_magstripe_only_card_has_no_atr(card_sim: CardReaderSimulator,
                                        card_driver: CardReaderDriver) -> None:
    """GIVEN a magnetic-stripe card WHEN read THEN track 2 only, no track 3, no chip."""
    card_driver.enable_entry()
    card_sim.control("insert magstripe")
    card = card_driver.read_card()
    assert card.pan == "4000001234567899" and card.track3 is None and not card.has_chip


def test_unreadable_card(card_sim: CardReaderSimulator, card_driver: CardReaderDriver) -> None:
    """GIVEN an unreadable card WHEN read THEN UnreadableCardError and the reader stays online."""
    card_driver.enable_entry()
    card_sim.control("insert unreadable")
    with pytest.raises(UnreadableCardError):
        card_driver.read_card()
    assert card_driver.state is DeviceState.ONLINE
    with pytest.raises(UnreadableCardError):
        card_driver.read_chip_atr()


def test_no_card(card_driver: CardReaderDriver) -> None:
    """GIVEN an empty reader WHEN read, eject or retain THEN NoCardError each time."""
    for action in (card_driver.read_card, card_driver.eject, card_driver.retain):
        with pytest.raises(NoCardError):
            action()


def test_eject_then_customer_takes_card(card_sim: CardReaderSimulator,
                                        card_driver: CardReaderDriver) -> None:
    """GIVEN a card inside WHEN ejected THEN it waits at the gate; once taken, no card."""
    card_driver.enable_entry()
    card_sim.control("insert chip")
    card_driver.eject()
    assert card_driver.status().media is MediaState.ENTERING
    card_sim.control("take")
    assert card_driver.status().media is MediaState.NOT_PRESENT


def test_retain_bin_fills_to_high_then_full(card_sim: CardReaderSimulator,
                                             card_driver: CardReaderDriver) -> None:
    """GIVEN a bin near its limits WHEN cards are retained THEN ok → high → full, then RetainBinFullError."""
    card_driver.enable_entry()
    card_sim.control("bin 39")
    card_sim.control("insert bank")
    card_driver.retain()
    status = card_driver.status()
    assert (status.retain_bin, status.retained_count, status.media) == (RetainBinState.HIGH, 40,
                                                                        MediaState.NOT_PRESENT)
    card_sim.control("bin 49")
    card_sim.control("insert bank")
    card_driver.retain()
    assert card_driver.status().retain_bin is RetainBinState.FULL
    card_sim.control("insert bank")
    with pytest.raises(RetainBinFullError):
        card_driver.retain()
    assert card_driver.status().media is MediaState.PRESENT


def test_reset_ejects_or_retains(card_sim: CardReaderSimulator, card_driver: CardReaderDriver) -> None:
    """GIVEN a card inside WHEN reset with eject or retain THEN the card is at the gate or in the bin."""
    card_driver.enable_entry()
    card_sim.control("insert bank")
    assert card_driver.reset(ResetAction.EJECT).media is MediaState.ENTERING
    card_sim.control("take")
    card_sim.control("insert bank")
    status = card_driver.reset(ResetAction.RETAIN)
    assert status.media is MediaState.NOT_PRESENT and status.retained_count == 1
    assert card_driver.reset().device is DeviceState.ONLINE


def test_jam_is_a_hardware_error_until_cleared(card_sim: CardReaderSimulator,
                                               card_driver: CardReaderDriver) -> None:
    """GIVEN a jammed card WHEN ejecting THEN CardJammedError, status hardwareError/jammed; clearing
    recovers."""
    card_driver.enable_entry()
    card_sim.control("insert bank")
    card_sim.control("jam")
    with pytest.raises(CardJammedError) as info:
        card_driver.eject()
    assert info.value.state is DeviceState.HARDWARE_ERROR
    status = card_driver.status()
    assert (status.device, status.media) == (DeviceState.HARDWARE_ERROR, MediaState.JAMMED)
    card_sim.control("clear")
    assert card_driver.status().device is DeviceState.ONLINE


def test_line_noise_before_replies_is_skipped(card_sim: CardReaderSimulator, card_driver: CardReaderDriver,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN line noise before the next 5 replies WHEN commands run THEN they all succeed and the
    noise is logged."""
    card_sim.control("noise 5")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            assert card_driver.status().device is DeviceState.ONLINE
    assert card_driver.link.garbage_bytes > 0
    assert "garbage" in caplog.text


def test_bad_checksum_is_naked_and_resent(card_sim: CardReaderSimulator,
                                          card_driver: CardReaderDriver) -> None:
    """GIVEN two corrupt replies WHEN status is asked THEN the driver NAKs, gets a good copy and succeeds."""
    card_sim.control("corrupt 2")
    assert card_driver.status().device is DeviceState.ONLINE


def test_too_many_bad_checksums_is_a_hardware_error(card_sim: CardReaderSimulator,
                                                    card_driver: CardReaderDriver) -> None:
    """GIVEN every reply corrupt WHEN status is asked THEN hardwareError (no hang), then recovery."""
    card_sim.control("corrupt 50")
    status = card_driver.status()
    assert status.device is DeviceState.HARDWARE_ERROR and "corrupt" in status.detail
    card_sim.control("corrupt 0")
    assert card_driver.status().device is DeviceState.ONLINE


def test_truncated_reply_is_asked_again(card_sim: CardReaderSimulator,
                                        card_driver: CardReaderDriver) -> None:
    """GIVEN the next reply cut short WHEN status is asked THEN the driver NAKs after the gap and succeeds."""
    card_sim.control("truncate 1")
    assert card_driver.status().device is DeviceState.ONLINE


def test_command_naked_by_device_is_retried(card_sim: CardReaderSimulator,
                                            card_driver: CardReaderDriver) -> None:
    """GIVEN the device NAKs the next two commands WHEN status is asked THEN the third try succeeds."""
    card_sim.control("nak 2")
    assert card_driver.status().device is DeviceState.ONLINE
    assert len([c for c in card_sim.commands if c.cm == ord("1")]) == 1


def test_silent_device_times_out_then_recovers(card_sim: CardReaderSimulator,
                                               card_driver: CardReaderDriver) -> None:
    """GIVEN a device that stopped answering WHEN a command runs THEN DeviceTimeoutError within the
    retries."""
    card_sim.control("hang on")
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError):
        card_driver.enable_entry()
    assert time.monotonic() - started < 3 * 0.2 + 0.5
    assert card_driver.status().device is DeviceState.HARDWARE_ERROR
    card_sim.control("hang off")
    assert card_driver.status().device is DeviceState.ONLINE


def test_slow_replies_within_the_timeout_succeed(card_sim: CardReaderSimulator, card_driver: CardReaderDriver,
                                                 wait_for) -> None:
    """GIVEN replies 0.2 s late (timeout 0.4 s) WHEN status is asked THEN online; 0.6 s late is a timeout."""
    card_sim.control("slow 0.2")
    assert card_driver.status().device is DeviceState.ONLINE
    card_sim.control("slow 0.6")
    assert card_driver.status().device is DeviceState.HARDWARE_ERROR
    card_sim.control("slow 0")
    assert wait_for(lambda: card_driver.status().device is DeviceState.ONLINE)


def test_unplug_is_no_device_and_replug_recovers(card_sim: CardReaderSimulator, card_driver: CardReaderDriver,
                                                 wait_for) -> None:
    """GIVEN a working reader WHEN unplugged THEN noDevice (port gone); WHEN plugged back THEN online
    again."""
    assert card_driver.status().device is DeviceState.ONLINE
    card_sim.control("unplug")
    status = card_driver.status()
    assert status.device is DeviceState.NO_DEVICE
    with pytest.raises(NoDeviceError):
        card_driver.enable_entry()
    card_sim.control("replug")
    assert wait_for(lambda: card_driver.status().device is DeviceState.ONLINE)


def test_missing_port_is_no_device(tmp_path) -> None:
    """GIVEN a port name that does not exist WHEN status is asked THEN noDevice with the cause."""
    driver = CardReaderDriver(SerialTransport(str(tmp_path / "nope")), ack_timeout=0.1, reply_timeout=0.1)
    status = driver.status()
    assert status.device is DeviceState.NO_DEVICE and "cannot open" in status.detail


def test_hardware_failure_on_motor_commands(card_sim: CardReaderSimulator,
                                            card_driver: CardReaderDriver) -> None:
    """GIVEN a failed motor WHEN reset THEN the error leaves the device in hardwareError; repair recovers."""
    card_sim.control("fail")
    with pytest.raises(Exception) as info:
        card_driver.reset()
    assert getattr(info.value, "state", None) is DeviceState.HARDWARE_ERROR
    card_sim.control("repair")
    assert card_driver.reset().device is DeviceState.ONLINE
