"""What every simulator shares: a device thread over a pty or loopback, faults, and a control socket.

Control commands are text lines; every simulator understands::

    unplug | replug | slow SECONDS | hang on|off | noise [N] | status

and framed devices also ``corrupt [N] | truncate [N] | nak [N]``. Each command answers one JSON object.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import socket
import socketserver
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from hardware.common.errors import HardwareError
from hardware.common.framing import ACK, NAK, Command, EventKind, FrameDecoder, Reply

log = logging.getLogger(__name__)

NOISE_BYTES = bytes(b for b in range(256) if b not in (ACK, NAK))


class DevicePort(Protocol):
    """The device end of a link: PtyPort or the device half of a LoopbackTransport pair."""

    name: str

    def open(self) -> None: ...
    def close(self) -> None: ...
    def read(self, max_bytes: int, timeout: float) -> bytes: ...
    def write(self, data: bytes) -> None: ...


class SimulatorControlError(ValueError):
    """A control command that the simulator does not understand."""


class SerialDeviceSimulator:
    """A device model on its own thread; the thread owns all state, control calls run on it."""

    kind = "device"
    poll = 0.02

    def __init__(self, port: DevicePort, *, seed: int | None = None) -> None:
        self.port = port
        self.random = random.Random(seed)
        self.delay = 0.0
        self.hang = False
        self.noise = 0
        self._calls: queue.Queue[tuple[Any, Future]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.log: list[str] = []

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> SerialDeviceSimulator:
        self.port.open()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        getattr(self.port, "dispose", self.port.close)()

    def __enter__(self) -> SerialDeviceSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            while True:
                try:
                    fn, future = self._calls.get_nowait()
                except queue.Empty:
                    break
                try:
                    future.set_result(fn())
                except Exception as err:  # handed back to the caller
                    future.set_exception(err)
            try:
                data = self.port.read(4096, self.poll)
            except HardwareError:  # the link is unplugged: wait for a replug
                self._stop.wait(self.poll)
                continue
            try:
                if data:
                    self.on_bytes(data)
                else:
                    self.on_idle()
            except Exception:  # a simulator bug must not kill the device thread silently
                log.exception("%s simulator failed handling input", self.kind)

    def call(self, fn: Any, timeout: float = 10.0) -> Any:
        """Run fn() on the device thread and return its result."""
        if self._thread is None or not self._thread.is_alive():
            return fn()
        future: Future = Future()
        self._calls.put((fn, future))
        return future.result(timeout)

    # -- hooks ------------------------------------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        """Bytes arrived from the host."""

    def on_idle(self) -> None:
        """No bytes for one poll interval."""

    def send(self, data: bytes) -> None:
        """Write to the host with the configured delay and line noise."""
        if self.hang:
            return
        if self.delay:
            time.sleep(self.delay)
        if self.noise > 0:
            self.noise -= 1
            garbage = bytes(self.random.choice(NOISE_BYTES) for _ in range(self.random.randint(3, 12)))
            data = garbage + data
        self.port.write(data)

    # -- control ----------------------------------------------------------------------------------
    def control(self, line: str) -> dict[str, Any]:
        """Apply one control command (see module doc) on the device thread; returns the new status."""
        words = line.strip().split()
        if not words:
            raise SimulatorControlError("empty command")
        return self.call(lambda: self._control(words[0].lower(), words[1:]))

    def _control(self, verb: str, args: list[str]) -> dict[str, Any]:
        count = int(args[0]) if args and args[0].isdigit() else 1
        if verb == "unplug":
            self.port.close()
        elif verb == "replug":
            replug = getattr(self.port, "replug", None)
            if replug is not None:
                replug()
            else:
                self.port.open()
        elif verb == "slow":
            self.delay = float(args[0]) if args else 1.0
        elif verb == "hang":
            self.hang = not args or args[0].lower() in ("on", "1", "true", "yes")
        elif verb == "noise":
            self.noise = count
        elif verb == "status":
            pass
        elif not self.handle_control(verb, args, count):
            raise SimulatorControlError(f"unknown command {verb!r}; try: {self.help()}")
        self.log.append(" ".join([verb, *args]))
        return self.snapshot()

    def handle_control(self, verb: str, args: list[str], count: int) -> bool:
        """Device-specific control commands; return False when the verb is unknown."""
        return False

    def help(self) -> str:
        return "unplug, replug, slow S, hang on|off, noise N, status"

    def snapshot(self) -> dict[str, Any]:
        """The simulator's state, as the control socket reports it."""
        return {
            "kind": self.kind,
            "plugged": bool(getattr(self.port, "plugged", True)),
            "port": self.port.name,
            "pty": getattr(self.port, "pty_name", ""),
            "delay": self.delay,
            "hang": self.hang,
        }


class FramedDeviceSimulator(SerialDeviceSimulator):
    """A device on the framed link: ACKs intact frames, NAKs bad ones, answers via `handle`."""

    inter_byte_timeout = 0.3

    def __init__(self, port: DevicePort, *, seed: int | None = None) -> None:
        super().__init__(port, seed=seed)
        self._decoder = FrameDecoder()
        self._last_reply = b""
        self._last_byte = time.monotonic()
        self.corrupt = 0
        self.truncate = 0
        self.nak = 0
        self.commands: list[Command] = []

    def handle(self, command: Command) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_bytes(self, data: bytes) -> None:
        self._last_byte = time.monotonic()
        for event in self._decoder.feed(data):
            if event.kind is EventKind.BAD_CHECKSUM:
                self.port.write(bytes([NAK]))
            elif event.kind is EventKind.NAK and self._last_reply:
                self._transmit(self._last_reply)
            elif event.kind is EventKind.FRAME:
                self._on_frame(event.data)

    def on_idle(self) -> None:
        if self._decoder.pending and time.monotonic() - self._last_byte > self.inter_byte_timeout:
            self._decoder.reset()

    def _on_frame(self, text: bytes) -> None:
        if self.hang:
            return
        if self.nak > 0:
            self.nak -= 1
            self.port.write(bytes([NAK]))
            return
        try:
            command = Command.parse(text)
        except ValueError:
            self.port.write(bytes([NAK]))
            return
        self.port.write(bytes([ACK]))
        self.commands.append(command)
        self._last_reply = self.handle(command).frame()
        self._transmit(self._last_reply)

    def _transmit(self, frame: bytes) -> None:
        """Send a reply frame, spoiled by the configured corruption or truncation."""
        if self.corrupt > 0:
            self.corrupt -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        if self.truncate > 0:
            self.truncate -= 1
            frame = frame[: max(2, len(frame) // 2)]
        self.send(frame)

    def _control(self, verb: str, args: list[str]) -> dict[str, Any]:
        count = int(args[0]) if args and args[0].isdigit() else 1
        if verb == "corrupt":
            self.corrupt = count
        elif verb == "truncate":
            self.truncate = count
        elif verb == "nak":
            self.nak = count
        else:
            return super()._control(verb, args)
        self.log.append(" ".join([verb, *args]))
        return self.snapshot()

    def help(self) -> str:
        return super().help() + ", corrupt N, truncate N, nak N"


class ControlServer:
    """A Unix socket that feeds text lines to a simulator and answers each with one JSON line."""

    def __init__(self, simulator: SerialDeviceSimulator, path: str | os.PathLike[str]) -> None:
        self.simulator = simulator
        self.path = Path(path)
        self._server: socketserver.ThreadingUnixStreamServer | None = None

    @property
    def address(self) -> str:
        return f"unix:{self.path}"

    def start(self) -> ControlServer:
        sim = self.simulator

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line:
                        continue
                    self.wfile.write((json.dumps(run_control(sim, line), ensure_ascii=False) + "\n").encode())
                    self.wfile.flush()

        if self.path.exists():
            self.path.unlink()
        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="sim-control", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.path.exists():
            self.path.unlink()


def run_control(sim: SerialDeviceSimulator, line: str) -> dict[str, Any]:
    """Apply one control line; errors come back as {"error": …} instead of raising."""
    try:
        return {"ok": True, **sim.control(line)}
    except (SimulatorControlError, ValueError, IndexError) as err:
        return {"ok": False, "error": str(err)}


def send_control(address: str, line: str, timeout: float = 10.0) -> dict[str, Any]:
    """Send one control line to a simulator's socket (`unix:/path` or a path) and return its answer."""
    path = address.removeprefix("unix:")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
