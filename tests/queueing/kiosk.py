"""A scripted kiosk for tests and the benchmark: sends ticket requests, collects the typed replies by
request_id."""

from __future__ import annotations

import threading
import time

from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import parse_broker_url
from wire.messages import TicketReplyData, TicketReplyMessage, TicketRequestData, TicketRequestMessage


class ScriptedKiosk:
    def __init__(self, broker_url: str, *, branch: str = "b001", device: str = "k1"):
        self.replies: dict[str, TicketReplyData] = {}
        self.received_at: dict[str, float] = {}
        self.sent_at: dict[str, float] = {}
        self._cond = threading.Condition()
        self.link = DeviceLink(parse_broker_url(broker_url), branch=branch, device=device,
                               components=["printer"], on_message=self._on_message)

    def __enter__(self) -> ScriptedKiosk:
        self.link.start()
        if not self.link.connected.wait(10):
            raise AssertionError("kiosk did not connect")
        return self

    def __exit__(self, *exc) -> None:
        self.link.stop(goodbye=True, timeout=10)

    def _on_message(self, msg: object) -> None:
        if not isinstance(msg, TicketReplyMessage):
            return
        with self._cond:
            self.replies.setdefault(msg.data.request_id, msg.data)
            self.received_at.setdefault(msg.data.request_id, time.perf_counter())
            self._cond.notify_all()

    def request(self, request_id: str, business: str, **kw) -> None:
        self.sent_at.setdefault(request_id, time.perf_counter())
        self.link.send(TicketRequestMessage, TicketRequestData(request_id=request_id, business=business, **kw))

    def reply(self, request_id: str, timeout: float = 10) -> TicketReplyData:
        with self._cond:
            if not self._cond.wait_for(lambda: request_id in self.replies, timeout):
                raise AssertionError(f"no reply to {request_id} within {timeout} s")
            return self.replies[request_id]
