"""The device end of a pseudo-terminal pair, for simulators; a stable symlink survives unplug/replug."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import tempfile
import time
import tty
from pathlib import Path

log = logging.getLogger(__name__)


class PtyPort:
    """A pty master the simulator reads and writes; drivers open `link` (or `pty_name`) with pyserial.

    Use it from one thread only (the simulator's): unplug/replug close and reopen the pair.
    """

    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        self._own_dir: Path | None = None
        if link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="smartzone-sim-"))
            link = self._own_dir / "tty"
        self.link = Path(link)
        self.name = str(self.link)
        self.pty_name = ""
        self._master: int | None = None
        self._slave: int | None = None
        self.plugged = False

    def open(self) -> None:
        """Create the pty pair and point the link at its slave."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.pty_name = os.ttyname(slave)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.pty_name)
        tmp.replace(self.link)
        self.plugged = True
        log.info("pty %s linked at %s", self.pty_name, self.link)

    def close(self) -> None:
        """Close the pair and remove the link, as pulling the cable does."""
        self.plugged = False
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    unplug = close

    def dispose(self) -> None:
        """Close for good and remove the temporary folder this port made (once it is empty)."""
        self.close()
        if self._own_dir is not None:
            with contextlib.suppress(OSError):
                self._own_dir.rmdir()

    def replug(self) -> None:
        """A fresh pty pair behind the same link, as plugging a USB adapter back in does."""
        self.close()
        self.open()

    @property
    def is_open(self) -> bool:
        return self._master is not None

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Up to max_bytes from the host; b"" after `timeout` s or while unplugged."""
        if self._master is None:
            time.sleep(timeout)
            return b""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, max_bytes)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:  # EIO: no slave open; nothing to read
            time.sleep(timeout)
            return b""

    def write(self, data: bytes) -> None:
        """Send bytes to the host; dropped while unplugged or when nobody drains the port."""
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view and self._master is not None and time.monotonic() < deadline:
            try:
                written = os.write(self._master, view)
                view = view[written:]
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
            except OSError as err:
                log.debug("pty write dropped: %s", err)
                return

    def discard_input(self) -> None:
        while self._master is not None and self.read(4096, 0):
            pass
