"""The lobby display speaks every call: a real broker, the real listener, Qt offscreen; speech faked at its backend."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from kiosk_client.core.board import Board, announcement
from kiosk_client.services.speech import SpeechQueue
from tests.support import wait_until
from wire import encode, envelope
from wire.messages import (
    BoardBusiness,
    BoardCall,
    QueueBoardData,
    QueueBoardMessage,
    QueueCallData,
    QueueCallMessage,
    bilingual,
)


class SlowVoice:
    """The speech backend: records what it said; holds the first utterance until released (a busy minute)."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.release = threading.Event()

    def __call__(self, text: str, lang: str) -> None:
        self.release.wait(30)
        self.said.append((lang, text))


def test_speech_queue_keeps_every_call_and_coalesces_only_exact_repeats():
    """GIVEN the display's queue WHEN calls, an exact repeat and a recall arrive THEN only the repeat merges."""
    q = SpeechQueue()
    assert q.push(("请 A001 号到 1 号窗口", "zh")) and q.push(("Ticket A001, please go to counter 1", "en"))
    assert not q.push(("请 A001 号到 1 号窗口", "zh"))  # still waiting: one announcement
    assert q.push(("再次呼叫：请 A001 号到 1 号窗口", "zh"))
    said = [q.pop() for _ in range(3)]
    assert said[0] == ("请 A001 号到 1 号窗口", "zh") and q.pop() is None
    assert q.push(("请 A001 号到 1 号窗口", "zh"))  # said already: a new call of it is said again
    prompts = SpeechQueue(latest_only=True)  # the kiosk's prompts: only the current screen's
    prompts.push(("a", "zh"))
    prompts.push(("b", "zh"))
    assert prompts.pop() == ("b", "zh") and len(prompts) == 0


def test_waiting_per_business_shows_the_p50_p90_range_in_both_languages():
    board = Board()
    now = datetime.now(UTC)
    board.apply_board(QueueBoardData(branch="b001", updated_at=now, waiting={"deposit": 3, "card": 0}, businesses=[
        BoardBusiness(business="deposit", name=bilingual("存取款", "Deposit"), prefix="A", waiting=3,
                      wait_p50_min=5.2, wait_p90_min=9.4)]))
    assert board.waiting_text("deposit", "zh") == "等候 3 人 · 约 5–9 分钟"
    assert board.waiting_text("deposit", "en") == "3 waiting · 5–9 min"
    assert board.waiting_text("card", "en") == "0 waiting" and board.waiting_text("loan", "zh") == "–"


def test_the_display_speaks_every_call_of_a_burst_of_ten(qtbot, mosquitto, spy):
    """GIVEN the lobby display on the branch broker, its voice busy with the first call WHEN ten calls, an exact
    repeat of the last and a recall of the first arrive within a moment THEN every call is spoken, Chinese then
    English, in order; the repeat still waiting is said once; the recall is announced again, saying so."""
    from device_hub.link.mqtt import parse_broker_url
    from kiosk_client.services.speech import Speaker
    from kiosk_client.ui.display import LobbyDisplay
    from kiosk_client.workers.board import BoardListener
    from szconfig.loader import default_config_dir, load_branch

    voice = SlowVoice()
    speaker = Speaker(backend=voice, latest_only=False).start()
    view = LobbyDisplay(load_branch(default_config_dir() / "branches" / "b001.toml"), speaker=speaker)
    qtbot.addWidget(view)
    now = datetime.now(UTC)
    board = QueueBoardData(branch="b001", updated_at=now, calls=[BoardCall(ticket="Z999", counter=5, business="card",
                                                                           at=now)])
    spy.publish("sz/v1/b001/queue/board", encode(envelope(QueueBoardMessage, branch="b001", device="hub", seq=1,
                                                          data=board)), retain=True)
    listener = BoardListener(parse_broker_url(mosquitto.url), "b001")
    listener.board.connect(view.on_board)
    listener.call.connect(view.on_call)
    listener.start()

    def call(ticket: str, counter: int, recall: bool = False) -> QueueCallData:
        return QueueCallData(ticket=ticket, counter=counter, business="deposit", recall=recall, at=datetime.now(UTC))

    calls = [call(f"A{n:03d}", n % 4 + 1) for n in range(1, 11)]
    try:
        qtbot.waitUntil(lambda: view.now.text() == "Z999", timeout=5000)  # subscribed: the retained board is here
        for data in [*calls, calls[-1], call("A001", 2, recall=True)]:
            msg = envelope(QueueCallMessage, branch="b001", device="hub", seq=1, data=data, id=uuid.uuid4())
            spy.publish("sz/v1/b001/queue/call", encode(msg))
        qtbot.waitUntil(lambda: view.now.text() == "A001" and len(speaker.spoken) == 24, timeout=5000)
        voice.release.set()
        expected = [(lang, text) for data in [*calls, call("A001", 2, recall=True)]
                    for lang, text in zip(("zh", "en"), announcement(data), strict=True)]
        wait_until(lambda: len(voice.said) == len(expected), timeout=10)
        assert voice.said == expected
        assert voice.said[-2:] == [("zh", "再次呼叫：请 A001 号到 2 号窗口"),
                                   ("en", "Calling again: Ticket A001, please go to counter 2")]
        assert speaker.pending() == 0
    finally:
        voice.release.set()
        listener.stop()
        speaker.stop()
