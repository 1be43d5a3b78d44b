"""CameraWorker: reads cv2.VideoCapture frames on its own thread; the caller never blocks on the camera.

The thread owns the capture. Frames go into a bounded deque: when the consumer is slow the
oldest frame is dropped (and counted), so the consumer always sees recent frames. A source that
fails to open or stops delivering is released and reopened with back-off; meanwhile the state
is noDevice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hardware.common.status import DeviceState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray = field(repr=False)
    seq: int
    timestamp: float


class CameraWorker:
    """Frames from a device index, a video file or an RTSP/HTTP URL.

    `buffer` frames at most are kept (drop-oldest). Files are paced at their own frame rate and
    looped, as a camera would deliver them, unless `loop_files=False`.
    """

    def __init__(self, source: int | str, *, buffer: int = 2, reconnect_delay: float = 0.5,
                 max_reconnect_delay: float = 10.0, loop_files: bool = True, pace_files: bool = True) -> None:
        if isinstance(source, str) and source.isdigit():
            source = int(source)
        self.source = source
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.loop_files = loop_files
        self.pace_files = pace_files
        self._frames: deque[Frame] = deque(maxlen=max(1, buffer))
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = DeviceState.OFFLINE
        self.last_error = ""
        self.frames_read = 0
        self.frames_dropped = 0
        self.reconnects = 0

    @property
    def is_file(self) -> bool:
        return isinstance(self.source, str) and "://" not in self.source

    def start(self) -> CameraWorker:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CameraWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def get(self, timeout: float = 1.0) -> Frame | None:
        """The oldest buffered frame, waiting up to `timeout` s; None if none came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._frames:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)
            return self._frames.popleft()

    def latest(self) -> Frame | None:
        """The newest frame, discarding older ones; None if the buffer is empty."""
        with self._cond:
            if not self._frames:
                return None
            frame = self._frames[-1]
            self._frames.clear()
            return frame

    def buffered(self) -> int:
        with self._cond:
            return len(self._frames)

    def status(self) -> dict[str, object]:
        return {"device": str(self.state), "source": str(self.source), "framesRead": self.frames_read,
                "framesDropped": self.frames_dropped, "reconnects": self.reconnects, "detail": self.last_error}

    # -- the thread -------------------------------------------------------------------------------
    def _set_state(self, state: DeviceState, reason: str = "") -> None:
        if state is not self.state:
            (log.warning if state is not DeviceState.ONLINE else log.info)(
                "camera %s: %s%s", self.source, state, f" ({reason})" if reason else "")
        self.state, self.last_error = state, reason

    def _open(self) -> cv2.VideoCapture | None:
        if self.is_file and not Path(str(self.source)).exists():
            self._set_state(DeviceState.NO_DEVICE, "source file not found")
            return None
        cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            self._set_state(DeviceState.NO_DEVICE, "cannot open source")
            return None
        return cap

    def _run(self) -> None:
        delay = self.reconnect_delay
        seq = 0
        while not self._stop.is_set():
            cap = self._open()
            if cap is None:
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            fps = cap.get(cv2.CAP_PROP_FPS) if self.is_file and self.pace_files else 0.0
            period = 1.0 / fps if fps and fps > 0 else 0.0
            got_any = False
            try:
                while not self._stop.is_set():
                    started = time.monotonic()
                    ok, image = cap.read()
                    if not ok or image is None:
                        break
                    if not got_any:
                        got_any = True
                        delay = self.reconnect_delay
                        self._set_state(DeviceState.ONLINE)
                    seq += 1
                    self.frames_read += 1
                    with self._cond:
                        if len(self._frames) == self._frames.maxlen:
                            self.frames_dropped += 1
                        self._frames.append(Frame(image, seq, time.time()))
                        self._cond.notify_all()
                    if period:
                        self._stop.wait(max(0.0, period - (time.monotonic() - started)))
            finally:
                cap.release()
            if self._stop.is_set():
                break
            if self.is_file and got_any and self.loop_files:
                continue  # end of file: start again, as a camera keeps delivering
            self.reconnects += 1
            self._set_state(DeviceState.NO_DEVICE, "stream ended or camera lost")
            self._stop.wait(delay)
            delay = min(delay * 2, self.max_reconnect_delay)
        self._set_state(DeviceState.OFFLINE, "stopped")
