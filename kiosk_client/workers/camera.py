"""The camera worker: captures a few frames, turns them into embeddings, or reads QR codes."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kiosk_client.services.face import Camera, CameraError, FaceEmbedder, decode_qr, embeddings

log = logging.getLogger(__name__)


class CameraWorker(QObject):
    embeddings_ready = Signal(str, object)  # request_id, list of 128-D vectors
    face_failed = Signal(str, bool)  # request_id, camera broken
    qr_found = Signal(str)
    status_changed = Signal(bool)  # camera usable

    def __init__(self, camera: Camera | None, embedder: FaceEmbedder, *, frames: int = 3,
                 scan_s: float = 0.3):
        super().__init__()
        self.camera, self.embedder = camera, embedder
        self.frames, self.scan_s = frames, scan_s
        self._usable: bool | None = None

    @Slot()
    def start(self) -> None:
        self._scan = QTimer(self)
        self._scan.timeout.connect(self._scan_once)
        self._set_usable(self.camera is not None)

    def _set_usable(self, usable: bool) -> None:
        if usable != self._usable:
            self._usable = usable
            self.status_changed.emit(usable)

    @Slot(str, int)
    def capture(self, request_id: str, frames: int = 0) -> None:
        """`frames` to capture (0: the worker's default); only those that pass the embedder's gates count."""
        if self.camera is None:
            self.face_failed.emit(request_id, True)
            return
        try:
            vectors = embeddings(self.camera, self.embedder, frames=frames or self.frames)
        except CameraError as err:
            log.warning("camera: %s", err)
            self._set_usable(False)
            self.face_failed.emit(request_id, True)
            return
        self._set_usable(True)
        if vectors:
            self.embeddings_ready.emit(request_id, vectors)
        else:
            self.face_failed.emit(request_id, False)

    @Slot(bool)
    def scan_qr(self, active: bool) -> None:
        if active and self.camera is not None:
            self._scan.start(int(self.scan_s * 1000))
        else:
            self._scan.stop()

    def _scan_once(self) -> None:
        try:
            frames = self.camera.frames(1)
        except CameraError:
            self._set_usable(False)
            return
        text = decode_qr(frames[0]) if frames else None
        if text:
            self._scan.stop()
            self.qr_found.emit(text)

    @Slot()
    def stop(self) -> None:
        timer = getattr(self, "_scan", None)
        if timer is not None:
            timer.stop()
        if self.camera is not None:
            self.camera.close()
