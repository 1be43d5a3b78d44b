"""An in-memory transport pair for fast tests and the in-process demo."""

from __future__ import annotations

import threading
import time

from hardware.transport.base import TransportError


class _Pipe:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.cond = threading.Condition()


class LoopbackTransport:
    """One end of an in-memory byte pipe; `pair()` makes both ends."""

    def __init__(self, name: str, rx: _Pipe, tx: _Pipe, link: dict[str, bool]) -> None:
        self.name = name
        self._rx, self._tx, self._link = rx, tx, link
        self._open = False

    @classmethod
    def pair(cls, name: str = "loop") -> tuple[LoopbackTransport, LoopbackTransport]:
        """(host end, device end): what one writes the other reads."""
        a, b = _Pipe(), _Pipe()
        link = {"plugged": True}
        return cls(f"{name}:host", a, b, link), cls(f"{name}:device", b, a, link)

    def unplug(self) -> None:
        """Make both ends fail as a vanished port does."""
        self._link["plugged"] = False
        for pipe in (self._rx, self._tx):
            with pipe.cond:
                pipe.buffer.clear()
                pipe.cond.notify_all()

    def replug(self) -> None:
        self._link["plugged"] = True

    @property
    def is_open(self) -> bool:
        return self._open and self._link["plugged"]

    def open(self) -> None:
        if not self._link["plugged"]:
            raise TransportError(f"{self.name}: no device")
        self._open = True

    def close(self) -> None:
        self._open = False

    def _check(self) -> None:
        if not self._open:
            self.open()
        if not self._link["plugged"]:
            self._open = False
            raise TransportError(f"{self.name}: device vanished")

    def write(self, data: bytes) -> None:
        self._check()
        with self._tx.cond:
            self._tx.buffer += data
            self._tx.cond.notify_all()

    def read(self, max_bytes: int, timeout: float) -> bytes:
        self._check()
        deadline = time.monotonic() + timeout
        with self._rx.cond:
            while not self._rx.buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._link["plugged"]:
                    break
                self._rx.cond.wait(remaining)
            self._check()
            data = bytes(self._rx.buffer[:max_bytes])
            del self._rx.buffer[:max_bytes]
            return data

    def discard_input(self) -> None:
        with self._rx.cond:
            self._rx.buffer.clear()
