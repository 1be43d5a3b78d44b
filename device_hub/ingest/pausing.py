"""A periodic step on the hub's MQTT thread that must never raise: on an error it pauses and tries again."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class PauseOnError:
    """Runs `step(now)`; an exception (the database away, a row that cannot be sent) is logged once, and the
    step is skipped until `retry_s` later, so the hub's loop keeps its MQTT connection alive meanwhile."""

    def __init__(self, what: str, step: Callable[[float], None], retry_s: float = 1.0):
        self.what, self.step, self.retry_s = what, step, retry_s
        self._retry_at = 0.0
        self._failing = False

    def __call__(self, now: float) -> None:
        if now < self._retry_at:
            return
        try:
            self.step(now)
        except Exception as err:
            self._retry_at = now + self.retry_s
            if not self._failing:
                log.warning("%s paused (%s: %s); retrying every %.0f s", self.what, type(err).__name__,
                            getattr(err, "orig", err), self.retry_s)
            self._failing = True
            return
        if self._failing:
            log.info("%s running again", self.what)
            self._failing = False
