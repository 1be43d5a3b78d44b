"""Peripheral workers: each owns its drivers on its own thread; the GUI thread only sees signals.

Status is polled every `poll_s`; a change is emitted at once (the composition root publishes it).
While identification is open, the card worker watches both readers every `watch_s`. A card or ID
identifies one session only: a reader reads again only after its media status showed it empty
(`kiosk_client.core.hygiene`).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from hardware.card_reader.errors import NoCardError
from hardware.common.errors import HardwareError
from hardware.common.status import DeviceState, MediaState, PaperState
from hardware.printer.receipt import NoteReceipt, TicketReceipt, note_bytes
from kiosk_client.core.hygiene import MediaGate
from kiosk_client.services.peripherals import CardReader, IdReader, Printer
from wire import Component, ErrorAction

log = logging.getLogger(__name__)


def error_action(fields: dict[str, Any]) -> ErrorAction | None:
    """XFS4IoT's error action for a component's status: staff on site `clear` paper, jams, an open cover and a full
    retain bin; a broken device needs `maintenance` by an engineer; a healthy one needs nothing."""
    if fields.get("device") in (DeviceState.HARDWARE_ERROR, DeviceState.NO_DEVICE, DeviceState.POWER_OFF):
        return ErrorAction.MAINTENANCE
    if (fields.get("paper") in (PaperState.LOW, PaperState.OUT, PaperState.JAMMED) or fields.get("cover_open")
            or fields.get("media") == MediaState.JAMMED or fields.get("retain_bin") in ("high", "full")):
        return ErrorAction.CLEAR
    return None


def _with_action(fields: dict[str, Any]) -> dict[str, Any]:
    action = error_action(fields)
    return {**fields, "action": action} if action else fields


def card_status_fields(component: Component, status: Any) -> dict[str, Any]:
    """hardware's CardReaderStatus as StatusData keyword arguments."""
    fields: dict[str, Any] = {"component": component, "device": str(status.device),
                              "media": str(status.media)}
    if component is Component.CARD_READER:
        fields["retain_bin"] = str(status.retain_bin)
        if status.retained_count is not None:
            fields["retain_count"] = status.retained_count
    if status.detail:
        fields["detail"] = status.detail[:200]
    return _with_action(fields)


def printer_status_fields(status: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"component": Component.PRINTER, "device": str(status.device),
                              "paper": str(status.paper)}
    if status.cover_open is not None:
        fields["cover_open"] = status.cover_open
    if status.detail:
        fields["detail"] = status.detail[:200]
    return _with_action(fields)


def printer_usable(status: Any) -> bool:
    return (status.device is DeviceState.ONLINE and status.paper not in (PaperState.OUT, PaperState.JAMMED)
            and not status.cover_open)


class CardWorker(QObject):
    """The bank-card reader and the ID reader."""

    status_changed = Signal(object, bool)  # StatusData fields (a dict), usable
    card_read = Signal(str, str, str)  # card_kind, keyed hash, masked
    card_problem = Signal(str)  # text key
    card_left = Signal(str)  # text key: a card of an earlier session is still in a reader

    def __init__(self, card_reader: CardReader | None, id_reader: IdReader | None, *, key: str,
                 poll_s: float = 5.0, watch_s: float = 0.25):
        super().__init__()
        self.card_reader, self.id_reader = card_reader, id_reader
        self.key, self.poll_s, self.watch_s = key, poll_s, watch_s
        self.active = False
        self._last: dict[Component, dict[str, Any]] = {}
        self._usable: dict[Component, bool] = {}
        self.gates = {Component.CARD_READER: MediaGate(), Component.ID_READER: MediaGate()}

    @Slot()
    def start(self) -> None:
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.poll_status)
        self._poll.start(int(self.poll_s * 1000))
        self._watch = QTimer(self)
        self._watch.timeout.connect(self._look_for_card)
        self.poll_status()

    @Slot()
    def poll_status(self) -> None:
        if self.card_reader is not None:
            s = self.card_reader.status()
            self._report(Component.CARD_READER, card_status_fields(Component.CARD_READER, s),
                         s.device is DeviceState.ONLINE)
            self._observe(Component.CARD_READER, s)
        if self.id_reader is not None:
            s = self.id_reader.status()
            self._report(Component.ID_READER, card_status_fields(Component.ID_READER, s),
                         s.device is DeviceState.ONLINE)
            self._observe(Component.ID_READER, s)

    def _observe(self, component: Component, status: Any) -> None:
        """Feed a polled status to the reader's gate; a card taken while identifying opens the card entry."""
        if status.device is not DeviceState.ONLINE:
            return
        if self.gates[component].observe(status.media) and self.active and component is Component.CARD_READER:
            self._entry(True)

    def _report(self, component: Component, fields: dict[str, Any], usable: bool) -> None:
        if self._last.get(component) != fields or self._usable.get(component) != usable:
            self._last[component], self._usable[component] = fields, usable
            self.status_changed.emit(fields, usable)

    @Slot(bool)
    def set_identify(self, active: bool) -> None:
        if active == self.active:
            return
        self.active = active
        if active:
            self.poll_status()  # the media status now, not the last poll's
            left = [c for c, dev in ((Component.CARD_READER, self.card_reader), (Component.ID_READER, self.id_reader))
                    if dev is not None and self._usable.get(c, False) and not self.gates[c].may_read()]
            if left:
                self.card_left.emit("take_card" if Component.CARD_READER in left else "take_id_card")
        # The shutter opens only for a reader that is empty: entry would pull a card left at the gate back in.
        if not active or self.gates[Component.CARD_READER].may_read():
            self._entry(active)
        if active:
            self._watch.start(int(self.watch_s * 1000))
        else:
            self._watch.stop()

    def _entry(self, enable: bool) -> None:
        if self.card_reader is None or not self._usable.get(Component.CARD_READER, True):
            return
        try:
            (self.card_reader.enable_entry if enable else self.card_reader.disable_entry)()
        except HardwareError as err:
            log.warning("card entry %s failed: %s", "enable" if enable else "disable", err)
            self.poll_status()

    def _look_for_card(self) -> None:
        if not self.active:
            return
        if self.card_reader is not None and self._usable.get(Component.CARD_READER, False):
            self._try_bank_card()
        if self.active and self.id_reader is not None and self._usable.get(Component.ID_READER, False):
            self._try_id_card()

    def _try_bank_card(self) -> None:
        status = self.card_reader.status()
        if status.device is not DeviceState.ONLINE:
            self.poll_status()
            return
        self._observe(Component.CARD_READER, status)
        gate = self.gates[Component.CARD_READER]
        if status.media is not MediaState.PRESENT or not gate.may_read():
            return
        try:
            card = self.card_reader.read_card()
        except NoCardError:
            return
        except HardwareError as err:
            log.info("card not read: %s", err)
            self.card_problem.emit("card_unreadable")
            gate.used()  # taken back and inserted again: a fresh try
            self._eject()
            return
        gate.used()
        self.active = False
        self._watch.stop()
        self.card_read.emit("bank", card.keyed_hash(self.key), card.masked)
        self._eject()

    def _eject(self) -> None:
        try:
            self.card_reader.eject()
        except HardwareError as err:
            log.warning("eject failed: %s", err)
            self.poll_status()

    def _try_id_card(self) -> None:
        status = self.id_reader.status()
        if status.device is not DeviceState.ONLINE:
            self.poll_status()
            return
        self._observe(Component.ID_READER, status)
        gate = self.gates[Component.ID_READER]
        if status.media is not MediaState.PRESENT or not gate.may_read():
            return
        try:
            if not self.id_reader.card_present():
                return
            identity = self.id_reader.read_identity()
        except HardwareError as err:
            log.info("ID card not read: %s", err)
            self.card_problem.emit("card_unreadable")
            gate.used()  # lift it and place it again
            return
        gate.used()
        self.active = False
        self._watch.stop()
        self.card_read.emit("id", identity.keyed_hash(self.key), identity.masked)

    @Slot()
    def stop(self) -> None:
        for name in ("_poll", "_watch"):
            timer = getattr(self, name, None)
            if timer is not None:
                timer.stop()


class PrinterWorker(QObject):
    """The receipt printer: prints tickets and test pages, reports paper and cover."""

    status_changed = Signal(object, bool)
    printed = Signal(str, bool, str)  # request_id, ok, detail
    command_done = Signal(str, str, str)  # command_id, status, detail

    def __init__(self, printer: Printer | None, *, poll_s: float = 5.0):
        super().__init__()
        self.printer = printer
        self.poll_s = poll_s
        self._last: tuple[dict[str, Any], bool] | None = None

    @Slot()
    def start(self) -> None:
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.poll_status)
        self._poll.start(int(self.poll_s * 1000))
        self.poll_status()

    @Slot()
    def poll_status(self) -> None:
        if self.printer is None:
            return
        self._report(self.printer.status())

    def _report(self, status: Any) -> None:
        now = (printer_status_fields(status), printer_usable(status))
        if now != self._last:
            self._last = now
            self.status_changed.emit(*now)

    @Slot(object, str)
    def print_ticket(self, receipt: TicketReceipt, request_id: str) -> None:
        if self.printer is None:
            self.printed.emit(request_id, False, "no printer fitted")
            return
        try:
            status = self.printer.print_ticket(receipt)
        except HardwareError as err:
            log.warning("ticket %s not printed: %s", receipt.ticket_number, err)
            self.printed.emit(request_id, False, str(err))
            self.poll_status()
            return
        self._report(status)
        self.printed.emit(request_id, True, "")

    @Slot(object, str)
    def print_note(self, note: NoteReceipt, _key: str) -> None:
        """A slip without a queue number (how to withdraw face recognition); best effort: the screen says it too."""
        if self.printer is None:
            return
        try:
            self._report(self.printer.print_raw(note_bytes(note)))
        except HardwareError as err:
            log.warning("note not printed: %s", err)
            self.poll_status()

    @Slot(str)
    def print_test(self, command_id: str) -> None:
        if self.printer is None:
            self.command_done.emit(command_id, "failed", "no printer fitted")
            return
        try:
            self._report(self.printer.print_test())
        except HardwareError as err:
            self.command_done.emit(command_id, "failed", str(err)[:200])
            self.poll_status()
            return
        self.command_done.emit(command_id, "ok", "test page printed")

    @Slot()
    def stop(self) -> None:
        timer = getattr(self, "_poll", None)
        if timer is not None:
            timer.stop()
