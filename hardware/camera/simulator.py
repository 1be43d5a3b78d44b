"""A camera for the demo and tests: an MJPEG video file that CameraWorker opens like a device.

Control commands: ``unplug`` (the file vanishes: the worker goes noDevice at the end of the
current pass), ``replug``, ``status``.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hardware.common.simulator import SimulatorControlError


def synthetic_frames(count: int = 20, size: tuple[int, int] = (640, 480)) -> list[np.ndarray]:
    """Frames with a moving bar and the frame number, to see motion and order."""
    w, h = size
    frames = []
    for i in range(count):
        img = np.full((h, w, 3), 40, np.uint8)
        x = int((i / max(count, 1)) * w)
        cv2.rectangle(img, (x, 0), (min(x + 40, w - 1), h - 1), (0, 200, 255), -1)
        cv2.putText(img, f"smartzone camera {i:03d}", (20, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                    (255, 255, 255), 2)
        frames.append(img)
    return frames


def face_frames(folder: str | Path, size: tuple[int, int] = (640, 480), limit: int = 40) -> list[np.ndarray]:
    """Each image in a folder (e.g. an ORL subject), enlarged and centred on a frame."""
    w, h = size
    frames = []
    for path in sorted(Path(folder).rglob("*"))[:limit]:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        scale = min((h - 40) / img.shape[0], (w - 40) / img.shape[1])
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        frame = np.full((h, w, 3), int(img.mean()), np.uint8)
        top, left = (h - img.shape[0]) // 2, (w - img.shape[1]) // 2
        frame[top : top + img.shape[0], left : left + img.shape[1]] = img
        frames.append(frame)
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()


class CameraSimulator:
    """Writes the video file and lets tests unplug and replug it."""

    kind = "camera"

    def __init__(self, *, faces: str | None = None, fps: float = 10.0, directory: str | Path | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="smartzone-cam-"))
        self.source = self.directory / "camera.avi"
        self._hidden = self.directory / "camera.avi.unplugged"
        self.faces = faces
        self.fps = fps
        self._lock = threading.Lock()

    def start(self) -> CameraSimulator:
        frames = face_frames(self.faces) if self.faces else synthetic_frames()
        write_video(self.source, frames or synthetic_frames(), self.fps)
        return self

    def stop(self) -> None:
        for path in (self.source, self._hidden):
            path.unlink(missing_ok=True)
        if self._own_dir:
            with contextlib.suppress(OSError):
                self.directory.rmdir()

    def help(self) -> str:
        return "unplug, replug, status"

    def control(self, line: str) -> dict[str, Any]:
        verb = line.strip().lower()
        with self._lock:
            if verb == "unplug" and self.source.exists():
                self.source.rename(self._hidden)
            elif verb == "replug" and self._hidden.exists():
                self._hidden.rename(self.source)
            elif verb not in ("unplug", "replug", "status"):
                raise SimulatorControlError(f"unknown command {verb!r}; try: {self.help()}")
            return {"kind": self.kind, "source": str(self.source), "plugged": self.source.exists()}
