"""Live console updates for changes made in another process (usually the hub).

The SSE broadcaster lives in the server process, but most changes are committed by the hub. A
`ChangePoller` thread per app reads rows changed since its watermark (with an overlap for
transactions that committed late), publishes each change once, and stops when the broadcaster
closes. Domains subclass it and implement `poll()`; `ensure()` starts one per app on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any

from server.db import utcnow

log = logging.getLogger(__name__)
_lock = threading.Lock()


class ChangePoller:
    name = "live"
    poll_s = 1.0
    overlap = timedelta(seconds=5)

    def __init__(self, factory: Any, events: Any):
        self.factory, self.events = factory, events
        self.since = utcnow() - self.overlap
        self.seen: dict[Hashable, Any] = {}
        self.thread = threading.Thread(target=self.run, name=f"{self.name}-poller", daemon=True)

    def run(self) -> None:
        failures = 0
        while not self.events.closed:
            try:
                self.poll()
                failures = 0
            except Exception:  # the database went away (shutdown, test teardown): stop after a few tries
                failures += 1
                log.debug("%s poll failed", self.name, exc_info=True)
                if failures > 5:
                    return
            threading.Event().wait(self.poll_s)

    def poll(self) -> int:
        """Publish what changed since the watermark; returns how many events were published."""
        raise NotImplementedError

    def first_time(self, key: Hashable, version: Any) -> bool:
        """True once per (key, version): rows read again within the overlap are not published twice."""
        if version is None or self.seen.get(key) == version:
            return False
        self.seen[key] = version
        return True

    def advance(self, now: datetime) -> None:
        """Move the watermark and forget what the next overlap can no longer see again."""
        self.since = now
        horizon = now - self.overlap * 2
        self.seen = {k: v for k, v in self.seen.items() if _at(v) >= horizon}


def _at(version: Any) -> datetime:
    return version[-1] if isinstance(version, tuple) else version


def ensure(app: Any, poller: type[ChangePoller]) -> None:
    """Start the app's poller of this kind once (idempotent, cheap to call on every request)."""
    attr = f"live_{poller.name}"
    if getattr(app.state, attr, None) is not None:
        return
    with _lock:
        if getattr(app.state, attr, None) is None:
            p = poller(app.state.sessions, app.state.events)
            setattr(app.state, attr, p)
            p.thread.start()
