"""Run the app with uvicorn on a background thread (the demo, browser tests): start, url, stop."""

from __future__ import annotations

import threading
import time
import urllib.request

import uvicorn
from fastapi import FastAPI


class ServerThread:
    """`start()` returns once /healthz answers; port 0 picks a free port (see `.url`)."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"):
        self.app, self.host, self.port = app, host, port
        self.config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on",
                                     timeout_graceful_shutdown=3, access_log=False)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="sz-http", daemon=True)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the HTTP server did not start on {self.host}:{self.port} (port in use?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server did not start within {timeout} s")
            time.sleep(0.02)
        if self.port == 0:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.url}/healthz did not answer within {timeout} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        events = getattr(self.app.state, "events", None)
        if events is not None:
            events.close()  # end SSE streams so the graceful shutdown is quick
        self.server.should_exit = True
        self.thread.join(timeout)
