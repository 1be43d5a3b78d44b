"""Helpers for tests: waiting on conditions instead of sleeping."""

import time
from collections.abc import Callable


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
