"""The host side of the framed link: send a command, wait for ACK and reply, retry, resynchronise."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from hardware.common.errors import DeviceTimeoutError, HardwareError, ProtocolError
from hardware.common.framing import ACK, NAK, Command, EventKind, FrameDecoder, Reply
from hardware.common.status import DeviceState
from hardware.transport.base import Transport

log = logging.getLogger(__name__)


class FramedLink:
    """One command at a time over a transport, with NAK/timeout retries and resync after garbage."""

    def __init__(
        self,
        transport: Transport,
        *,
        retries: int = 3,
        ack_timeout: float = 0.5,
        reply_timeout: float = 5.0,
    ) -> None:
        self.transport = transport
        self.retries = retries
        self.ack_timeout = ack_timeout
        self.reply_timeout = reply_timeout
        self._decoder = FrameDecoder()
        self._events: deque = deque()
        self.garbage_bytes = 0

    def _next_event(self, deadline: float):
        while not self._events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            data = self.transport.read(4096, remaining)
            if data:
                for event in self._decoder.feed(data):
                    if event.kind is EventKind.GARBAGE:
                        self.garbage_bytes += len(event.data)
                        log.warning("%s: discarded %d garbage bytes: %s", self.transport.name,
                                    len(event.data), event.data[:16].hex())
                    else:
                        self._events.append(event)
        return self._events.popleft()

    def exchange(self, command: Command, *, reply_timeout: float | None = None) -> Reply:
        """Send `command` and return the device's reply; raises DeviceTimeoutError or ProtocolError.

        TransportError (a NoDeviceError) passes through when the port is gone.
        """
        wait_reply = self.reply_timeout if reply_timeout is None else reply_timeout
        failure = "no answer"
        for attempt in range(1, self.retries + 1):
            self._decoder.reset()
            self._events.clear()
            self.transport.discard_input()
            self.transport.write(command.frame())
            outcome = self._await_ack(time.monotonic() + self.ack_timeout)
            if outcome == "ack":
                return self._await_reply(command, wait_reply)
            failure = outcome
            log.warning("%s: command %s%s attempt %d/%d: %s", self.transport.name, chr(command.cm),
                        chr(command.pm), attempt, self.retries, outcome)
        if failure == "no answer":
            raise DeviceTimeoutError(f"{self.transport.name}: no ACK after {self.retries} tries")
        raise ProtocolError(f"{self.transport.name}: command refused after {self.retries} tries ({failure})")

    def _await_ack(self, deadline: float) -> str:
        while True:
            event = self._next_event(deadline)
            if event is None:
                return "no answer"
            if event.kind is EventKind.ACK:
                return "ack"
            if event.kind is EventKind.NAK:
                return "NAK (device saw a bad frame)"
            # A frame or corrupt frame before the ACK is a stale reply: skip it.
            log.warning("%s: unexpected %s before ACK", self.transport.name, event.kind.value)

    def _await_reply(self, command: Command, timeout: float) -> Reply:
        deadline = time.monotonic() + timeout
        naks = 0
        while True:
            event = self._next_event(deadline)
            if event is None:
                partial = self._decoder.reset()
                if partial and naks < self.retries:
                    naks += 1
                    log.warning("%s: truncated reply (%d bytes), asking again", self.transport.name,
                                len(partial))
                    self.transport.write(bytes([NAK]))
                    deadline = time.monotonic() + timeout
                    continue
                what = f"a truncated reply ({len(partial)} bytes)" if partial else "no reply"
                raise DeviceTimeoutError(f"{self.transport.name}: {what} within {timeout:.1f} s")
            if event.kind is EventKind.BAD_CHECKSUM:
                naks += 1
                log.warning("%s: reply with bad checksum (%d/%d): %s", self.transport.name, naks,
                            self.retries, event.data.hex())
                if naks > self.retries:
                    raise ProtocolError(f"{self.transport.name}: {naks} corrupt replies in a row")
                self.transport.write(bytes([NAK]))
                deadline = time.monotonic() + timeout
                continue
            if event.kind is not EventKind.FRAME:
                continue
            try:
                reply = Reply.parse(event.data)
            except ValueError as err:
                raise ProtocolError(f"{self.transport.name}: {err}") from err
            if (reply.cm, reply.pm) != (command.cm, command.pm):
                log.warning("%s: skipped a reply to another command: %r", self.transport.name, event.data)
                continue
            self.transport.write(bytes([ACK]))
            return reply


class FramedDriver:
    """Shared by the framed-link drivers: one exchange at a time, errors turned into a device state."""

    def __init__(
        self,
        transport: Transport,
        *,
        retries: int = 3,
        ack_timeout: float = 0.5,
        reply_timeout: float = 5.0,
    ) -> None:
        self.transport = transport
        self.link = FramedLink(transport, retries=retries, ack_timeout=ack_timeout,
                               reply_timeout=reply_timeout)
        self.state = DeviceState.OFFLINE
        self.last_error = ""
        self._lock = threading.Lock()

    def _exchange(self, command: Command, *, reply_timeout: float | None = None) -> Reply:
        with self._lock:
            try:
                reply = self.link.exchange(command, reply_timeout=reply_timeout)
            except HardwareError as err:
                self._failed(err)
                raise
            except Exception as err:  # never let a library error escape as something untyped
                wrapped = ProtocolError(f"{self.transport.name}: {type(err).__name__}: {err}")
                self._failed(wrapped)
                raise wrapped from err
        if self.state is not DeviceState.ONLINE:
            log.info("%s: device answers again (was %s)", self.transport.name, self.state)
        self.state = DeviceState.ONLINE
        self.last_error = ""
        return reply

    def _failed(self, err: HardwareError) -> None:
        self.state = err.state
        self.last_error = str(err)
        log.warning("%s: %s -> %s", self.transport.name, err, err.state)

    def close(self) -> None:
        """Release the port; the next command reopens it."""
        self.transport.close()
