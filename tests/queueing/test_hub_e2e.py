"""Kiosk → broker → hub → queue → reply, call and retained board, with a real Mosquitto and the real hub."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from server.db import utcnow
from server.outbox.service import enqueue
from server.queueing import calling
from server.queueing.models import Ticket
from tests.queueing.kiosk import ScriptedKiosk
from tests.spine.hubkit import HubThread
from wire import decode_hub_message


class Listener:
    """Subscribes to the branch's queue topics and keeps what arrives, decoded as displays decode it."""

    def __init__(self, url: str):
        host, port = url.removeprefix("mqtt://").split(":")
        self.messages: list[tuple[str, Any, bool]] = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="queue-listener")
        self.c.on_message = lambda _c, _u, m: self._add(m)
        self.c.connect(host, int(port))
        self.c.subscribe("sz/v1/b001/queue/#", qos=1)
        self.c.loop_start()

    def _add(self, m) -> None:
        with self.lock:
            self.messages.append((m.topic, decode_hub_message(m.payload), m.retain))

    def of(self, suffix: str) -> list[Any]:
        with self.lock:
            return [body for topic, body, _r in self.messages if topic.endswith(suffix)]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kiosk_ticket_reply_retry_provisional_call_and_board(mosquitto, migrated, wait_until) -> None:
    """GIVEN the hub and a kiosk on a private broker WHEN the kiosk asks for tickets, retries one, reports a
    provisional number, and a counter calls THEN each reply carries number, place and estimate, a retry gets
    the same ticket, nothing is duplicated, `queue/call` is published and the retained board follows."""
    _engine, factory = migrated
    with HubThread(mosquitto.url, factory), ScriptedKiosk(mosquitto.url) as kiosk:
        kiosk.request("req-e2e-0001", "card")
        d = kiosk.reply("req-e2e-0001").ticket
        assert d is not None and d.number == "C001" and d.people_ahead == 0
        assert d.status_url == f"/t/{d.token}" and d.routed_to == "counter" and d.reason
        assert d.wait_p50_min is not None and d.wait_p90_min >= d.wait_p50_min

        kiosk.request("req-e2e-0002", "card", elderly=True)
        second = kiosk.reply("req-e2e-0002").ticket
        assert second.number == "C002" and second.routed_to == "counter" and "elderly" in second.reason.en

        # the kiosk timed out and printed K1-001 itself; the same request_id comes again
        kiosk.replies.pop("req-e2e-0001")
        kiosk.request("req-e2e-0001", "card", provisional_number="K1-001")
        again = kiosk.reply("req-e2e-0001").ticket
        assert again.ticket_id == d.ticket_id and again.number == "K1-001" and again.provisional_number == "K1-001"

        listener = Listener(mosquitto.url)
        try:
            wait_until(lambda: listener.of("queue/board"), timeout=10, message="retained board")
            with factory() as s, s.begin():
                res = calling.call_next(s, branch_id="b001", counter=3, now=utcnow())
                enqueue(s, res.outbox)
            wait_until(lambda: listener.of("queue/call"), timeout=10, message="queue/call")
            call = listener.of("queue/call")[0]
            assert call.type == "queue_call" and (call.data.ticket, call.data.counter) == ("K1-001", 3)
            assert call.data.ticket_id == d.ticket_id  # a kiosk's survey names the ticket it was about
            wait_until(lambda: any(b.data.current for b in listener.of("queue/board")), timeout=10,
                       message="board with the current call")
        finally:
            listener.close()
        late = Listener(mosquitto.url)  # a display switched on now gets the retained board at once
        try:
            wait_until(lambda: late.of("queue/board"), timeout=10, message="retained board for a late display")
            board = late.of("queue/board")[-1].data
            assert board.current[0].ticket == "K1-001" and board.waiting == {"card": 1}
        finally:
            late.close()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
