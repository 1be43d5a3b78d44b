"""The lobby display shows the counters the board lists as paused, with the reason in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk_client.core.board import Board
from wire.messages import BilingualText, BoardPaused, QueueBoardData

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def _board(*paused: BoardPaused) -> QueueBoardData:
    return QueueBoardData(branch="b001", updated_at=AT, waiting={"deposit": 2}, paused=list(paused))


LUNCH = BoardPaused(counter=3, reason="lunch", text=BilingualText(zh="3 号窗口暂停服务（午餐）",
                                                                 en="Counter 3 is paused (lunch break)"))
FAULT = BoardPaused(counter=1, reason="system_fault", text=BilingualText(zh="1 号窗口暂停服务（系统故障）",
                                                                        en="Counter 1 is paused (system fault)"))


def test_board_model_keeps_paused_counters_in_counter_order():
    """GIVEN boards listing paused counters WHEN applied THEN the model has their texts by counter number, and a
    later board without pauses clears them (a board from an older hub has none)."""
    board = Board()
    board.apply_board(_board(LUNCH, FAULT))
    assert board.paused == [(FAULT.text.zh, FAULT.text.en), (LUNCH.text.zh, LUNCH.text.en)]
    board.apply_board(_board())
    assert board.paused == []


def test_display_shows_and_clears_the_pause(qtbot):
    """GIVEN the lobby display WHEN a board with counter 3 at lunch arrives, then one without THEN the pause is shown
    in both languages, then gone."""
    from kiosk_client.services.speech import Speaker
    from kiosk_client.ui.display import LobbyDisplay
    from szconfig.loader import default_config_dir, load_branch

    view = LobbyDisplay(load_branch(default_config_dir() / "branches" / "b001.toml"), speaker=Speaker(enabled=False))
    qtbot.addWidget(view)
    view.on_board(_board(LUNCH))
    assert view.paused.text() == "3 号窗口暂停服务（午餐）  Counter 3 is paused (lunch break)"
    view.on_board(_board())
    assert view.paused.text() == ""
