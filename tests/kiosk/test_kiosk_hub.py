"""The kiosk end to end: pty simulators, a private Mosquitto and the real hub (SQLite)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from hardware.card_reader.simulator import TEST_PAN
from kiosk_client.core.flow import Screen
from tests.kiosk.conftest import KEY
from wire import encode, envelope
from wire.messages import (
    BoardCall,
    CommandData,
    CommandMessage,
    FaceReplyData,
    FaceReplyMessage,
    QueueBoardData,
    QueueBoardMessage,
    QueueCallData,
    QueueCallMessage,
    RecognisedCustomer,
)


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def take_ticket(qtbot, kiosk) -> None:
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].take)
    click(qtbot, w.pages[Screen.BUSINESS].buttons["deposit"])


def test_ticket_through_hub_and_card_identification(qtbot, make_kiosk, hub, mosquitto):
    """GIVEN the kiosk online with the hub WHEN a customer inserts a bank card THEN the hub stores the keyed
    hash and masked number, answers the ticket request at once with a queue number, and the ticket is printed
    with a QR code to its public status page."""
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=5)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    take_ticket(qtbot, kiosk)
    assert kiosk.screen is Screen.IDENTIFY
    kiosk.peripherals.simulators["card_reader"].control("insert bank")
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=4000)  # well before the 5 s timeout
    ticket = kiosk.flow.customer.ticket
    assert ticket.number == "A001" and not ticket.provisional  # deposit tickets start with A
    assert ticket.people_ahead == 0 and ticket.status_path.startswith("/t/")
    qtbot.waitUntil(lambda: kiosk.flow.customer.ticket.printed is True, timeout=5000)
    receipt = kiosk.peripherals.simulators["printer"].receipts[-1]
    assert any("A001" in line for line in receipt.lines)
    assert f"http://127.0.0.1:8000{ticket.status_path}" in receipt.qr_codes
    qtbot.waitUntil(lambda: len(hub.events("ticket_request")) == 1 and bool(hub.events("card_read")), timeout=5000)
    card = hub.events("card_read")[0].data
    assert card["card_hash"] == hmac.new(KEY.encode(), TEST_PAN.encode(), hashlib.sha256).hexdigest()
    assert card["masked"] == "622202*********0128"
    (request,) = (e.data for e in hub.events("ticket_request"))
    assert request["customer_ref"] == card["card_hash"] and "provisional_number" not in request
    assert TEST_PAN not in json.dumps([e.data for e in hub.events()])


def test_broker_outage_during_a_flow_loses_nothing(qtbot, make_kiosk, hub, mosquitto):
    """GIVEN a customer mid-flow WHEN the broker dies THEN a provisional ticket is issued and, once the broker
    is back, the hub receives the request with the provisional number."""
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=1.0)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    take_ticket(qtbot, kiosk)
    mosquitto.stop()  # SIGTERM: the broker saves its sessions (see docs/kiosk.md on kill -9)
    click(qtbot, kiosk.window.pages[Screen.IDENTIFY].skip)
    qtbot.waitUntil(lambda: kiosk.screen is Screen.TICKET, timeout=5000)
    assert kiosk.flow.customer.ticket.provisional
    qtbot.waitUntil(lambda: not kiosk.flow.online, timeout=5000)
    mosquitto.start()
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=15000)
    qtbot.waitUntil(lambda: any(e.data.get("provisional_number") == "K1-001"
                                for e in hub.events("ticket_request")), timeout=20000)
    qtbot.waitUntil(lambda: kiosk.link.pending() == 0, timeout=10000)


def test_recognition_needs_consent_and_sends_only_embeddings(qtbot, make_kiosk, hub, mosquitto):
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=1.0)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].face)
    page = w.pages[Screen.CONSENT]
    assert kiosk.screen is Screen.CONSENT and not page.check.isChecked() and not page.yes.isEnabled()
    click(qtbot, page.check)
    click(qtbot, page.yes)
    # the hub has no matcher yet: no greeting, the kiosk carries on with the ticket flow
    qtbot.waitUntil(lambda: kiosk.screen is Screen.BUSINESS, timeout=5000)
    qtbot.waitUntil(lambda: bool(hub.events("face_probe")), timeout=5000)
    probe = hub.events("face_probe")[0].data
    assert set(probe) <= {"request_id", "embeddings", "consent_version", "visit_id"}
    assert probe["consent_version"] == "face-test" and all(len(v) == 128 for v in probe["embeddings"])


def test_greeting_from_a_richer_hub_reply(qtbot, make_kiosk, mosquitto, spy):
    """GIVEN a hub that matches faces WHEN it replies with a name THEN the greeting shows it masked."""
    kiosk = make_kiosk(mosquitto.url, reply_timeout_s=5.0)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)
    kiosk.act("recognise_me")
    kiosk.act("consent", True)
    qtbot.waitUntil(lambda: bool(spy.of("evt/face_probe")), timeout=5000)
    rid = spy.of("evt/face_probe")[0]["data"]["request_id"]
    spy.publish("sz/v1/b001/dev/k1/reply", _hub_msg(FaceReplyMessage, FaceReplyData(
        request_id=rid, result="matched", customer=RecognisedCustomer(customer_ref="c-c89b697062ddf063",
                                                                      masked_name="王*明", usual_business="wealth"))))
    qtbot.waitUntil(lambda: kiosk.screen is Screen.GREETING, timeout=5000)
    assert "王*明" in w_text(kiosk)


def w_text(kiosk) -> str:
    return kiosk.window.pages[Screen.GREETING].title.text()


def test_survey_reaches_the_hub_tied_to_the_ticket_and_counter_with_nps(qtbot, make_kiosk, hub, mosquitto, spy):
    """GIVEN the branch called A012 to counter 3 WHEN a customer rates the service, picks A012 as theirs, gives
    4 stars and answers 9 to the 0–10 question THEN the hub stores one survey with the ticket, its id, the
    counter and the NPS."""
    kiosk = make_kiosk(mosquitto.url)
    qtbot.waitUntil(lambda: kiosk.flow.online and kiosk.calls.subscribed.is_set(), timeout=5000)
    spy.publish("sz/v1/b001/queue/call", _hub_msg(QueueCallMessage, QueueCallData(
        ticket="A012", counter=3, business="deposit", at=datetime.now(UTC), ticket_id=42), device="hub"))
    qtbot.waitUntil(lambda: [c.ticket for c in kiosk.flow.recent_calls] == ["A012"], timeout=5000)
    w = kiosk.window
    click(qtbot, w.pages[Screen.ATTRACT].rate)
    page = w.pages[Screen.SURVEY]
    assert page.served[0].isVisible() and "A012" in page.served[0].text()
    click(qtbot, page.served[0])
    click(qtbot, page.stars[3])
    click(qtbot, page.tags["staff"])
    click(qtbot, page.submit)
    assert kiosk.screen is Screen.NPS
    click(qtbot, w.pages[Screen.NPS].scores[9])
    assert kiosk.screen is Screen.THANKS
    qtbot.waitUntil(lambda: bool(hub.events("survey")), timeout=5000)
    (survey,) = (e.data for e in hub.events("survey"))
    assert (survey["score"], survey["tags"], survey["nps"]) == (4, ["staff"], 9)
    assert (survey["ticket"], survey["ticket_id"], survey["counter"]) == ("A012", 42, 3)


def _hub_msg(message_type: type, data: object, device: str = "k1") -> bytes:
    return encode(envelope(message_type, branch="b001", device=device, seq=1, data=data))


def _command(name: str, args: dict | None = None, expired: bool = False) -> tuple[str, bytes]:
    cid = uuid.uuid4().hex
    exp = datetime.now(UTC) + timedelta(seconds=-5 if expired else 60)
    return cid, _hub_msg(CommandMessage, CommandData(command_id=cid, name=name, args=args or {}, expires_at=exp))


def test_remote_commands_are_acknowledged(qtbot, make_kiosk, mosquitto, spy):
    """GIVEN an online kiosk WHEN the hub sends commands THEN each is carried out and answered on cmd/res."""
    kiosk = make_kiosk(mosquitto.url)
    qtbot.waitUntil(lambda: kiosk.flow.online, timeout=5000)

    def result(cid: str):
        return next((m["data"] for m in spy.of("cmd/res") if m["data"]["command_id"] == cid), None)

    cid, msg = _command("out_of_service", {"alternative_en": "Use kiosk 2", "alternative_zh": "请用2号机"})
    spy.publish("sz/v1/b001/dev/k1/cmd", msg)
    qtbot.waitUntil(lambda: result(cid) is not None, timeout=5000)
    assert kiosk.screen is Screen.OUT_OF_SERVICE and result(cid)["status"] == "ok"
    assert "请用2号机" in kiosk.window.pages[Screen.OUT_OF_SERVICE].where.text()
    printer = kiosk.peripherals.simulators["printer"]
    for name in ("print_test", "diagnostics", "in_service", "reload_config"):
        cid, msg = _command(name)
        spy.publish("sz/v1/b001/dev/k1/cmd", msg)
        qtbot.waitUntil(lambda cid=cid: result(cid) is not None, timeout=5000)
        expected = "refused" if name == "reload_config" else "ok"  # tests start from a model, not a file
        assert result(cid)["status"] == expected, result(cid)
    assert len(printer.receipts) == 1 and kiosk.screen is Screen.ATTRACT
    cid, msg = _command("print_test", expired=True)
    spy.publish("sz/v1/b001/dev/k1/cmd", msg)
    qtbot.waitUntil(lambda: result(cid) is not None, timeout=5000)
    assert result(cid)["status"] == "expired"


def test_presence_and_status_are_published(qtbot, make_kiosk, mosquitto, spy):
    """GIVEN a running kiosk WHEN the printer runs out of paper THEN an alarm-worthy status and an error go out
    at once; birth is retained and the last will marks the kiosk offline."""
    kiosk = make_kiosk(mosquitto.url)
    qtbot.waitUntil(lambda: any(m["data"].get("online") for m in spy.of("dev/k1/state")), timeout=5000)
    birth = next(m for m in spy.of("dev/k1/state") if m["data"]["online"])
    assert {"cardReader", "printer", "camera"} <= set(birth["data"]["components"])
    kiosk.peripherals.simulators["printer"].control("paper out")
    qtbot.waitUntil(lambda: any(m["data"].get("paper") == "out" for m in spy.of("dev/k1/status")), timeout=5000)
    status = next(m for m in spy.of("dev/k1/status") if m["data"].get("paper") == "out")
    assert status["data"]["device"] == "userError"
    qtbot.waitUntil(lambda: bool(spy.of("evt/error")), timeout=5000)
    kiosk.link.link.kill()
    qtbot.waitUntil(lambda: spy.of("dev/k1/state")[-1]["data"]["online"] is False, timeout=5000)


def test_lobby_display_follows_retained_board_and_calls(qtbot, mosquitto, spy):
    from device_hub.link.mqtt import parse_broker_url
    from kiosk_client.services.speech import Speaker
    from kiosk_client.ui.display import LobbyDisplay
    from kiosk_client.workers.board import BoardListener
    from szconfig.loader import default_config_dir, load_branch

    now = datetime.now(UTC)
    board = _hub_msg(QueueBoardMessage, QueueBoardData(branch="b001", updated_at=now, calls=[
        BoardCall(ticket="A012", counter=3, business="deposit", at=now),
        BoardCall(ticket="C004", counter=1, business="card", at=now)], waiting={"deposit": 4, "card": 2}),
        device="hub")
    # a newer hub's board with a field this display does not know: shown all the same
    newer = json.loads(board)
    newer["data"]["calls"][0]["screen_hint"] = "flash"
    spy.publish("sz/v1/b001/queue/board", json.dumps(newer).encode(), retain=True)
    branch = load_branch(default_config_dir() / "branches" / "b001.toml")
    speaker = Speaker(enabled=False, latest_only=False)
    view = LobbyDisplay(branch, speaker=speaker)
    qtbot.addWidget(view)
    listener = BoardListener(parse_broker_url(mosquitto.url), "b001")
    listener.board.connect(view.on_board)
    listener.call.connect(view.on_call)
    listener.start()
    try:
        qtbot.waitUntil(lambda: view.now.text() == "A012", timeout=5000)
        assert "C004 → 1" in view.recent[0].text() and "4" in view.waiting["deposit"].text()
        spy.publish("sz/v1/b001/queue/call", _hub_msg(QueueCallMessage, QueueCallData(
            ticket="B007", counter=2, business="card", at=datetime.now(UTC)), device="hub"))
        qtbot.waitUntil(lambda: view.now.text() == "B007", timeout=5000)
        assert speaker.spoken[-2:] == [("zh", "请 B007 号到 2 号窗口"), ("en", "Ticket B007, please go to counter 2")]
    finally:
        listener.stop()
