"""Helpers for tests: waiting on conditions instead of sleeping; a local webhook receiver."""

import http.server
import time
from collections.abc import Callable
from typing import ClassVar


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> object:
    """Poll until condition() is truthy; fail the test with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class WebhookReceiver(http.server.BaseHTTPRequestHandler):
    """A local HTTP endpoint (serve it with ThreadingHTTPServer): answers POSTs with the statuses in `plan` (then
    200) and keeps (lower-cased headers, body) of each in `got`. Reset both lists in each test."""

    plan: ClassVar[list[int]] = []
    got: ClassVar[list[tuple[dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(type(self).plan.pop(0) if type(self).plan else 200)
        self.end_headers()

    def log_message(self, *_a) -> None:
        pass


def outbox(session, kind: str) -> list:
    """The data of the outbox's messages of one type, oldest first, as the relay sends them and devices decode
    them (wire models)."""
    from sqlalchemy import select

    from server.outbox.models import OutboxMessage
    from wire import HUB_TYPES, decode_hub_message, encode, envelope

    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
    return [decode_hub_message(encode(envelope(HUB_TYPES[r.kind], branch=r.branch_id, device=r.device_id or "hub",
                                               seq=1, data=r.data))).data for r in rows]
