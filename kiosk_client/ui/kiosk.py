"""The kiosk's composition root: config → services → workers → flow → window; start, then stop in reverse.

The GUI thread only runs the pure flow and renders; serial, camera, MQTT and disk I/O happen on
worker threads, reached through queued signals.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from device_hub.link.mqtt import parse_broker_url
from device_hub.link.outbox import Outbox
from hardware.printer.receipt import NoteReceipt, TicketReceipt
from kiosk_client.core import flow as f
from kiosk_client.core.flow import BusinessOption, KioskFlow, Screen
from kiosk_client.core.i18n import Lang
from kiosk_client.core.ticket import Ticket
from kiosk_client.services.face import Camera, FaceEmbedder, make_camera, make_embedder
from kiosk_client.services.local_state import LocalNumberStore
from kiosk_client.services.peripherals import Peripherals, open_peripherals
from kiosk_client.services.speech import Speaker
from kiosk_client.ui.window import KioskWindow
from kiosk_client.workers.board import BoardListener
from kiosk_client.workers.camera import CameraWorker
from kiosk_client.workers.link import LinkWorker
from kiosk_client.workers.peripherals import CardWorker, PrinterWorker
from szconfig import calendar
from szconfig.branch import BranchConfig
from szconfig.kiosk import KioskConfig, load_kiosk_config
from szconfig.loader import default_config_dir, load_branch
from wire import Component, DeviceState, PaperState, TopicKind
from wire.messages import (
    CommandMessage,
    ErrorData,
    ErrorMessage,
    FaceConsentReplyMessage,
    FaceEnrolReplyMessage,
    FaceReplyMessage,
    StatusData,
    StatusMessage,
    TicketReplyMessage,
)

log = logging.getLogger(__name__)
SW_VERSION = "0.1.0"


AROUND_THE_CLOCK_ENV = "SZ_AROUND_THE_CLOCK"  # `smartzone kiosk --around-the-clock` (the demo's hours)


def load_branch_for(config: KioskConfig) -> BranchConfig:
    """The kiosk's branch; a relative branches_dir that is not here falls back to the checkout's configs/.
    With SZ_AROUND_THE_CLOCK=1 (`--around-the-clock`) its calendar is open 00:00-24:00, like the demo's hub."""
    path = config.branches_dir / f"{config.branch}.toml"
    if not path.exists() and not config.branches_dir.is_absolute():
        path = default_config_dir() / "branches" / f"{config.branch}.toml"
    branch = load_branch(path)
    if os.environ.get(AROUND_THE_CLOCK_ENV) == "1":
        branch = calendar.around_the_clock(branch)
    return branch


def make_flow(config: KioskConfig, branch: BranchConfig, local_number: Any) -> KioskFlow:
    """The pure flow, configured; shared by the running kiosk and the screenshot renderer."""
    return KioskFlow(
        businesses=[BusinessOption(b.code, b.name.zh, b.name.en) for b in branch.business_types],
        local_number=local_number, consent_version=config.consent_version, language=Lang(config.language),
        elder_mode=config.elder_mode, reply_timeout_s=config.reply_timeout_s,
        idle_timeout_s=config.idle_timeout_s, appointment_business=config.appointment_business,
        face_recognition=config.face_recognition and config.camera != "none" and branch.recognition.enabled,
        branch_name=(branch.name.zh, branch.name.en), alternative=(config.alternative.zh, config.alternative.en),
        status_url=config.status_url, branch=config.branch, ticket_page_base=config.ticket_page_base,
        hours=branch)


@dataclass
class Thread:
    worker: QObject
    thread: QThread = field(default_factory=QThread)


class KioskApp(QObject):
    """One running kiosk. Tests inject peripherals, a camera or an outbox; the CLI uses the defaults."""

    identify_requested = Signal(bool)
    print_requested = Signal(object, str)
    test_page_requested = Signal(str)
    capture_requested = Signal(str, int)
    note_requested = Signal(object, str)
    qr_scan_requested = Signal(bool)
    send_requested = Signal(object, object, object)

    def __init__(self, config: KioskConfig, *, config_path: Path | None = None,
                 peripherals: Peripherals | None = None, camera: Camera | str | None = "config",
                 embedder: FaceEmbedder | None = None, outbox: Outbox | None = None,
                 speaker: Speaker | None = None, receipts_dir: Path | None = None):
        super().__init__()
        self.config = config
        self.config_path = config_path
        self._peripherals = peripherals
        self._camera = camera
        self._embedder = embedder
        self._outbox = outbox
        self.speaker = speaker
        self.receipts_dir = receipts_dir
        self.threads: list[Thread] = []
        self.stopped = False
        self.status: dict[str, dict[str, Any]] = {}
        self.started_at = time.monotonic()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> KioskApp:
        cfg = self.config
        branch = load_branch_for(cfg)
        key = cfg.branch_key()
        self.numbers = LocalNumberStore(cfg.var_dir / f"kiosk-{cfg.branch}-{cfg.device}-state.db", cfg.local_numbers)
        self.flow = make_flow(cfg, branch, self.numbers.next)
        self.flow.last_touch = time.monotonic()
        self.speaker = (self.speaker or Speaker(enabled=cfg.speech)).start()
        self.peripherals = self._peripherals or open_peripherals(cfg, receipts_dir=self.receipts_dir)
        camera = make_camera(cfg.camera) if self._camera == "config" else self._camera
        embedder = self._embedder or make_embedder(simulated=cfg.camera in ("sim", "none"))
        self.camera = camera

        self.window = KioskWindow(self.flow, self.act)
        self.window.installEventFilter(self)
        for child in self.window.findChildren(QObject):
            if child.isWidgetType():
                child.installEventFilter(self)

        components = [str(Component.KIOSK), str(Component.DISPLAY)]
        p = self.peripherals
        for comp, dev in ((Component.CARD_READER, p.card_reader), (Component.ID_READER, p.id_reader),
                          (Component.PRINTER, p.printer), (Component.CAMERA, camera)):
            if dev is not None:
                components.append(str(comp))
            else:
                self.flow.set_component(comp, False)
        username, password = cfg.mqtt_credentials()
        url = parse_broker_url(cfg.broker).with_credentials(username, password.get_secret_value() if password else None)
        self.link = LinkWorker(url, branch=cfg.branch, device=cfg.device,
                               outbox_path=cfg.outbox_path, components=components, sw=SW_VERSION,
                               heartbeat_s=cfg.heartbeat_s, outbox=self._outbox)
        self.link.received.connect(self.on_message)
        self.link.connected_changed.connect(self.on_connected)
        self.send_requested.connect(self.link.send)
        # the branch's calls: a survey offers the last few
        self.calls = BoardListener(url, cfg.branch, role=f"kiosk-{cfg.device}")
        self.calls.call.connect(self.on_call)
        self.calls.start()

        self.cards = CardWorker(p.card_reader, p.id_reader, key=key, poll_s=cfg.status_poll_s)
        self.cards.status_changed.connect(self.on_status)
        self.cards.card_read.connect(self.on_card_read)
        self.cards.card_problem.connect(self.on_card_problem)
        self.cards.card_left.connect(self.on_card_problem)
        self.identify_requested.connect(self.cards.set_identify)

        self.printer = PrinterWorker(p.printer, poll_s=cfg.status_poll_s)
        self.printer.status_changed.connect(self.on_status)
        self.printer.printed.connect(self.on_printed)
        self.printer.command_done.connect(self.command_done)
        self.print_requested.connect(self.printer.print_ticket)
        self.note_requested.connect(self.printer.print_note)
        self.test_page_requested.connect(self.printer.print_test)

        self.cam = CameraWorker(camera, embedder)
        self.cam.embeddings_ready.connect(self.on_embeddings)
        self.cam.face_failed.connect(self.on_face_failed)
        self.cam.qr_found.connect(self.on_qr)
        self.cam.status_changed.connect(self.on_camera)
        self.capture_requested.connect(self.cam.capture)
        self.qr_scan_requested.connect(self.cam.scan_qr)

        for worker in (self.link, self.cards, self.printer, self.cam):
            t = Thread(worker)
            worker.moveToThread(t.thread)
            t.thread.started.connect(worker.start)
            t.thread.setObjectName(type(worker).__name__)
            t.thread.start()
            self.threads.append(t)

        self.idle = QTimer(self)
        self.idle.timeout.connect(lambda: self.act("tick", time.monotonic()))
        self.idle.start(500)
        self.window.render()
        return self

    def stop(self) -> None:
        """Stop workers in reverse order, then the drivers, simulators and stores.

        A flow timer or a worker's result still queued after this finds the kiosk stopped and does nothing.
        """
        self.stopped = True
        if hasattr(self, "idle"):
            self.idle.stop()
        for t in reversed(self.threads):
            if t.thread.isRunning():
                QMetaObject.invokeMethod(t.worker, "stop", Qt.ConnectionType.BlockingQueuedConnection)
            t.thread.quit()
            t.thread.wait(5000)
        self.threads.clear()
        if getattr(self, "calls", None) is not None:
            self.calls.stop()
        if getattr(self, "peripherals", None) is not None and self._peripherals is None:
            self.peripherals.close()
        if self.speaker is not None:
            self.speaker.stop()
        if getattr(self, "numbers", None) is not None:
            self.numbers.close()
        if getattr(self, "window", None) is not None:
            self.window.close()

    # --- touches and actions ----------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self.flow.touch(time.monotonic())
        return False

    def act(self, name: str, *args: Any) -> None:
        """A tap or a worker's result: run it through the flow, carry out the effects, re-render."""
        if self.stopped:
            return
        handler = getattr(self.flow, name)
        if name in ("take_ticket", "appointment", "recognise_me", "rate_service", "enrol_start"):
            self.flow.touch(time.monotonic())
        self.apply(handler(*args) or [])

    def apply(self, effects: list[f.Effect]) -> None:
        if self.stopped:
            return
        for e in effects:
            if isinstance(e, f.Send):
                self.send_requested.emit(e.message_type, e.data, e.topic_kind)
            elif isinstance(e, f.StartTimer):
                QTimer.singleShot(int(e.seconds * 1000), self,
                                  lambda t=e.timer, k=e.key: self.act("timer_expired", t, k))
            elif isinstance(e, f.PrintTicket):
                self.print_requested.emit(self.receipt(e.ticket), e.ticket.request_id)
            elif isinstance(e, f.Identify):
                self.identify_requested.emit(e.active)
            elif isinstance(e, f.CaptureFace):
                self.capture_requested.emit(e.request_id, e.frames)
            elif isinstance(e, f.PrintNote):
                self.note_requested.emit(NoteReceipt(self.flow.branch_name[0], e.title, e.lines), "")
            elif isinstance(e, f.ScanQr):
                self.qr_scan_requested.emit(e.active)
            elif isinstance(e, f.Speak):
                if self.speaker is not None:  # records always; speaks only when enabled and espeak-ng exists
                    self.speaker.say(e.text, str(e.lang))
            elif isinstance(e, f.RunCommand):
                self.run_command(e)
        if getattr(self, "window", None) is not None:
            self.window.render()

    def receipt(self, ticket: Ticket) -> TicketReceipt:
        opt = self.flow.business_option(ticket.business)
        low, high = ticket.wait_range or (None, None)
        note = " ".join(dict.fromkeys(self.flow.priority_label(ticket, lang) for lang in Lang))
        return TicketReceipt(
            branch_name=self.flow.branch_name[0], branch_name_en=self.flow.branch_name[1],
            ticket_number=ticket.number, business_type=opt.zh if opt else ticket.business,
            business_type_en=opt.en if opt else "", people_ahead=ticket.people_ahead or 0,
            estimated_wait_min=low, estimated_wait_max_min=high, note=note, issued_at=datetime.now(),
            status_url=self.flow.status_url(ticket.number, ticket.status_path))

    # --- from the workers -----------------------------------------------------------------------
    # Every handler is a slot of this object, so Qt queues it to the GUI thread. A lambda has no
    # receiver: it would run on the worker's thread, and the flow and the window with it.

    @Slot(str, str, str)
    def on_card_read(self, kind: str, keyed_hash: str, masked: str) -> None:
        self.act("card_read", kind, keyed_hash, masked)

    @Slot(str)
    def on_card_problem(self, text_key: str) -> None:
        self.act("card_problem", text_key)

    @Slot(str, bool, str)
    def on_printed(self, request_id: str, ok: bool, _detail: str) -> None:
        self.act("print_result", request_id, ok)

    @Slot(str, object)
    def on_embeddings(self, request_id: str, vectors: list) -> None:
        self.act("face_embeddings", request_id, vectors)

    @Slot(str, bool)
    def on_face_failed(self, request_id: str, broken: bool) -> None:
        self.act("face_failed", request_id, broken)

    @Slot(str)
    def on_qr(self, text: str) -> None:
        self.act("qr_scanned", text)

    @Slot(object)
    def on_call(self, data: Any) -> None:
        self.act("call_heard", data)

    @Slot(bool)
    def on_connected(self, online: bool) -> None:
        self.flow.set_online(online)
        self.apply([])

    @Slot(object, bool)
    def on_status(self, fields: dict[str, Any], usable: bool) -> None:
        """A component changed: publish at once, and let the flow route around it."""
        fields = dict(fields)
        component = Component(fields["component"])
        alarm = component is Component.PRINTER and fields.get("paper") in (PaperState.OUT, PaperState.JAMMED)
        if alarm and fields.get("device") == DeviceState.ONLINE:
            fields["device"] = DeviceState.USER_ERROR  # out of paper: staff must act
        self.status[str(component)] = fields
        self.send_requested.emit(StatusMessage, StatusData(**fields), TopicKind.STATUS)
        if alarm:
            self.send_requested.emit(ErrorMessage, ErrorData(
                component=component, code=f"paper_{fields['paper']}",
                message="receipt printer cannot print: tickets are shown on screen with a QR code"),
                TopicKind.EVENT)
        self.apply(self.flow.set_component(component, usable))

    @Slot(bool)
    def on_camera(self, usable: bool) -> None:
        device = DeviceState.ONLINE if usable else DeviceState.HARDWARE_ERROR
        if self.camera is None:
            return
        fields = {"component": Component.CAMERA, "device": device, **({} if usable else {"action": "maintenance"})}
        self.status[str(Component.CAMERA)] = fields
        self.send_requested.emit(StatusMessage, StatusData(**fields), TopicKind.STATUS)
        self.apply(self.flow.set_component(Component.CAMERA, usable))

    @Slot(object)
    def on_message(self, msg: TicketReplyMessage | FaceReplyMessage | CommandMessage) -> None:
        """Replies and commands from the hub, decoded and checked by the link (malformed ones never get here)."""
        if isinstance(msg, TicketReplyMessage):
            self.apply(self.flow.ticket_reply(msg.data))
        elif isinstance(msg, FaceReplyMessage):
            self.apply(self.flow.face_reply(msg.data))
        elif isinstance(msg, FaceEnrolReplyMessage):
            self.apply(self.flow.face_enrol_reply(msg.data))
        elif isinstance(msg, FaceConsentReplyMessage):
            self.apply(self.flow.face_consent_reply(msg.data))
        elif isinstance(msg, CommandMessage):
            c = msg.data
            self.apply(self.flow.command(c.command_id, c.name, c.args, expired=c.expires_at < datetime.now(UTC)))

    # --- remote commands ------------------------------------------------------------------------

    def run_command(self, e: f.RunCommand) -> None:
        if e.name == "print_test":
            self.test_page_requested.emit(e.command_id)
        elif e.name == "diagnostics":
            self.command_done(e.command_id, "ok", self.diagnostics())
        elif e.name == "reload_config":
            self.command_done(e.command_id, *self.reload_config())

    @Slot(str, str, str)
    def command_done(self, command_id: str, status: str, detail: str) -> None:
        self.apply([KioskFlow.command_result(command_id, status, detail or None)])

    def diagnostics(self) -> str:
        """A compact JSON summary (≤ 200 characters, the protocol's limit for a result detail)."""
        short = {k: v.get("device") for k, v in self.status.items()}
        info = {"up": int(time.monotonic() - self.started_at), "scr": str(self.flow.screen),
                "online": self.flow.online, "outbox": self.link.pending(), "st": short}
        return json.dumps(info, separators=(",", ":"))[:200]

    def reload_config(self) -> tuple[str, str]:
        if self.config_path is None:
            return "refused", "no config file to reload"
        try:
            cfg = load_kiosk_config(self.config_path)
            branch = load_branch_for(cfg)
        except Exception as err:  # ConfigError and friends: keep running on the old config
            return "failed", str(err)[:200]
        if (cfg.device, cfg.branch, cfg.broker) != (self.config.device, self.config.branch, self.config.broker):
            return "refused", "device, branch or broker changed: restart the kiosk"
        self.config = cfg
        fresh = make_flow(cfg, branch, self.numbers.next)
        for name in ("businesses", "consent_version", "default_language", "default_elder", "reply_timeout_s",
                     "idle_timeout_s", "appointment_business", "face_recognition", "branch_name",
                     "alternative", "status_url_template", "ticket_page_base"):
            setattr(self.flow, name, getattr(fresh, name))
        self.window.rebuild_business_page()
        return "ok", "configuration reloaded"

    # --- for tests and the benchmark --------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        return self.flow.screen


def run_kiosk(config_path: Path, *, windowed: bool) -> int:
    """`smartzone kiosk --config FILE`: full screen unless windowed; returns the exit code."""
    from kiosk_client.ui.theme import apply_font

    config = load_kiosk_config(config_path)
    app = QApplication.instance() or QApplication([])
    apply_font(app)
    kiosk = KioskApp(config, config_path=config_path).start()
    if windowed:
        kiosk.window.show()
    else:
        kiosk.window.showFullScreen()
    app.aboutToQuit.connect(kiosk.stop)
    return app.exec()
