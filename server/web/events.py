"""In-process publish/subscribe for the console's Server-Sent Events.

Any code in the server process publishes with `broadcaster.publish(type, data, branch_id=…)`
(thread-safe; from sync endpoints too). Each browser tab subscribes through
GET /api/events/stream and receives only events of its branches (events with branch_id=None go to
every signed-in user; events with staff_id only to that staff member's tabs). A slow subscriber's bounded
queue drops its oldest events and gets a
`resync` event telling the page to reload its data.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from server.db import utcnow

QUEUE_SIZE = 256
KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class ServerEvent:
    type: str
    data: dict[str, Any]
    branch_id: str | None = None
    id: int = 0
    ts: str = field(default_factory=lambda: utcnow().isoformat())

    def encode(self) -> str:
        """The SSE wire form: `id`, `event` and one `data` line of JSON."""
        payload = json.dumps({"type": self.type, "branch_id": self.branch_id, "ts": self.ts, "data": self.data},
                             ensure_ascii=False, separators=(",", ":"), default=str)
        return f"id: {self.id}\nevent: {self.type}\ndata: {payload}\n\n"


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, accepts: Callable[[str | None], bool],
                 staff_id: int | None = None):
        self.loop, self.accepts, self.staff_id = loop, accepts, staff_id
        self.queue: asyncio.Queue[ServerEvent | None] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, event: ServerEvent | None) -> None:
        """Runs on the subscriber's loop."""
        if self.queue.full():
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(ServerEvent("resync", {}, None, event.id if event else 0))
        self.queue.put_nowait(event)


class Broadcaster:
    def __init__(self) -> None:
        self._subs: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.closed = False

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, type: str, data: dict[str, Any], *, branch_id: str | None = None,
                staff_id: int | None = None) -> ServerEvent:
        """Send an event to every subscriber allowed to see `branch_id` (only `staff_id`'s, if given); never blocks."""
        event = ServerEvent(type, data, branch_id, next(self._ids))
        with self._lock:
            subs = [s for s in self._subs if s.accepts(branch_id) and staff_id in (None, s.staff_id)]
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # loop closed: the subscriber is gone
                self._drop(sub)
        return event

    def _drop(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    async def subscribe(self, accepts: Callable[[str | None], bool],
                        is_disconnected: Callable[[], Any] | None = None,
                        staff_id: int | None = None) -> AsyncIterator[str]:
        """Yield SSE-encoded events (and keep-alive comments) until closed or the client leaves."""
        sub = _Subscriber(asyncio.get_running_loop(), accepts, staff_id)
        with self._lock:
            self._subs.add(sub)
        try:
            yield ": connected\nretry: 3000\n\n"
            while not self.closed:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if is_disconnected is not None and await is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield event.encode()
        finally:
            self._drop(sub)

    def close(self) -> None:
        """End every stream (server shutdown), so the HTTP server is not kept waiting."""
        self.closed = True
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(sub.offer, None)
