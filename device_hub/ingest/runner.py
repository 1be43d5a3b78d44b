"""The hub's ingest loop on a background thread: for the demo, benchmarks and tests."""

from __future__ import annotations

import threading

from device_hub.ingest.hub import Hub


class HubThread:
    """`start()` returns once the hub is subscribed; `stop()` drains, commits, acknowledges and joins."""

    def __init__(self, hub: Hub, *, name: str = "hub"):
        self.hub = hub
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=hub.run, args=(self.stopping,), name=name, daemon=True)

    def start(self, timeout: float = 15) -> Hub:
        self.thread.start()
        if not self.hub.connected.wait(timeout):
            self.stop()
            raise RuntimeError(f"the hub could not subscribe at {self.hub.url} within {timeout} s")
        return self.hub

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"the hub did not stop within {timeout} s")

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
