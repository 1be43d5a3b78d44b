"""A TCP forwarder standing for a branch's wide-area link: pull the plug, put it back.

`LinkPlug(target_port).start()` listens on a port of its own and forwards every connection to the
target (the central broker). `pull()` drops every connection and refuses new ones, as a cut cable or a
firewall would; `restore()` accepts again. For tests and the demo, on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from device_hub.broker import free_port

log = logging.getLogger(__name__)


class LinkPlug:
    def __init__(self, target_port: int, port: int | None = None, *, host: str = "127.0.0.1"):
        self.host, self.target_port = host, target_port
        self.port = port or free_port()
        self.connected = True
        self._server: socket.socket | None = None
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self) -> LinkPlug:
        self._listen()
        return self

    def _listen(self) -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((self.host, self.port))
        srv.listen(16)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), name=f"plug-{self.port}", daemon=True).start()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                down, _ = srv.accept()
            except OSError:
                return  # pulled or stopped
            try:
                up = socket.create_connection((self.host, self.target_port), timeout=5)
                up.settimeout(None)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks |= {down, up}
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(src, dst)

    def _drop(self, *socks: socket.socket) -> None:
        with self._lock:
            for s in socks:
                self._socks.discard(s)
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def pull(self) -> None:
        """Cut the link: every connection dropped, new ones refused."""
        self.connected = False
        if self._server:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept(); close alone would not
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        with self._lock:
            socks = list(self._socks)
        self._drop(*socks)
        log.warning("link on port %d pulled", self.port)

    def restore(self) -> None:
        if not self.connected and not self._stopped.is_set():
            self._listen()
            self.connected = True
            log.warning("link on port %d restored", self.port)

    def stop(self) -> None:
        self._stopped.set()
        self.pull()
