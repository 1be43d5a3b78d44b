"""ID reader driver against its simulator over a real pseudo-terminal."""

from __future__ import annotations

from datetime import date

import pytest

from hardware.common.status import DeviceState, MediaState
from hardware.id_reader import IdReaderDriver
from hardware.id_reader.errors import NoCardError, UnreadableCardError
from hardware.id_reader.simulator import IdReaderSimulator


def test_read_identity(id_sim: IdReaderSimulator, id_driver: IdReaderDriver) -> None:
    """GIVEN an ID card on the reader WHEN read THEN name, number and validity; repr and public() hide
    them."""
    assert id_driver.card_present() is False
    id_sim.control("insert id")
    assert id_driver.card_present() is True
    assert id_driver.status().media is MediaState.PRESENT
    identity = id_driver.read_identity()
    assert identity.name == "张三" and identity.id_number == "11010519491231002X"
    assert (identity.valid_from, identity.valid_until) == (date(2020, 1, 1), date(2040, 1, 1))
    assert "11010519491231002X" not in repr(identity) and "张三" not in repr(identity)
    public = identity.public("key", today=date(2026, 11, 28))
    assert public["masked"] == "110***********002X" and public["name"] == "张*" and public["valid"] is True
    assert "11010519491231002X" not in str(public)


def test_long_term_and_expired_cards(id_sim: IdReaderSimulator, id_driver: IdReaderDriver) -> None:
    """GIVEN a card valid for life and an expired one WHEN read THEN validity says so."""
    id_sim.control("insert long")
    assert id_driver.read_identity().valid_until is None
    id_sim.control("insert expired")
    assert id_driver.read_identity().is_valid_on(date(2026, 11, 28)) is False


def test_no_card_and_unreadable_card(id_sim: IdReaderSimulator, id_driver: IdReaderDriver) -> None:
    """GIVEN no card, then an unreadable one WHEN read THEN NoCardError, then UnreadableCardError;
    still online."""
    with pytest.raises(NoCardError):
        id_driver.read_identity()
    id_sim.control("insert unreadable")
    with pytest.raises(UnreadableCardError):
        id_driver.read_identity()
    assert id_driver.status().device is DeviceState.ONLINE


def test_faults_end_in_defined_states(id_sim: IdReaderSimulator, id_driver: IdReaderDriver, wait_for) -> None:
    """GIVEN noise, silence and an unplug WHEN status is asked THEN online, hardwareError, noDevice;
    then recovery."""
    id_sim.control("noise 3")
    assert id_driver.status().device is DeviceState.ONLINE
    id_sim.control("hang on")
    assert id_driver.status().device is DeviceState.HARDWARE_ERROR
    id_sim.control("hang off")
    id_sim.control("unplug")
    assert id_driver.status().device is DeviceState.NO_DEVICE
    id_sim.control("replug")
    assert wait_for(lambda: id_driver.status().device is DeviceState.ONLINE)
