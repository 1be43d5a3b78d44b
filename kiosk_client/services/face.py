"""Camera frames, face embeddings and QR codes: interfaces, a simulated camera, and the real adapters.

Only 128-D embeddings ever leave this module; frames stay in memory and are dropped at once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

EMBEDDING_DIM = 128


class CameraError(RuntimeError):
    """The camera cannot deliver frames."""


class Camera(Protocol):
    def frames(self, n: int) -> list[np.ndarray]: ...
    def close(self) -> None: ...


class FaceEmbedder(Protocol):
    def embed(self, frame: np.ndarray) -> list[float] | None: ...


class SimulatedCamera:
    """Frames of one synthetic person (a seeded pattern), or a QR code when one is held up."""

    def __init__(self, person: int = 7, size: tuple[int, int] = (240, 320)):
        self.person = person
        self.size = size
        self.qr_payload: str | None = None
        self.broken = False

    def frames(self, n: int) -> list[np.ndarray]:
        if self.broken:
            raise CameraError("simulated camera unplugged")
        if self.qr_payload:
            return [qr_image(self.qr_payload)] * n
        rng = np.random.default_rng(self.person)
        base = rng.integers(0, 255, size=(*self.size, 3), dtype=np.uint8)
        return [np.clip(base.astype(np.int16) + i, 0, 255).astype(np.uint8) for i in range(n)]

    def close(self) -> None:
        pass


class OpenCvCamera:
    """A real camera (device index, file or URL) through OpenCV."""

    def __init__(self, source: str):
        self.source = int(source) if source.isdigit() else source
        self._cap = None

    def frames(self, n: int) -> list[np.ndarray]:
        import cv2

        if self._cap is None or not self._cap.isOpened():
            self._cap = cv2.VideoCapture(self.source)
        out = []
        for _ in range(n):
            ok, frame = self._cap.read()
            if not ok:
                break
            out.append(frame)
        if not out:
            raise CameraError(f"camera {self.source!r} gives no frames")
        return out

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()


class SimulatedEmbedder:
    """A deterministic unit vector per image content, so the same simulated person matches; no face stack."""

    def embed(self, frame: np.ndarray) -> list[float] | None:
        digest = hashlib.sha256(frame[::8, ::8].tobytes()[:4096]).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        v = rng.normal(size=EMBEDDING_DIM)
        return [round(float(x), 6) for x in v / np.linalg.norm(v)]


class PipelineEmbedder:
    """hardware.face's dlib pipeline (the `face` extra): detection, quality gates, 128-D descriptor."""

    def __init__(self) -> None:
        from hardware.face import FacePipeline

        self._pipeline = FacePipeline()

    def embed(self, frame: np.ndarray) -> list[float] | None:
        result = self._pipeline.embed(frame)
        return result if isinstance(result, list) else None


def make_embedder(simulated: bool) -> FaceEmbedder:
    """The real pipeline when the face stack is installed and the camera is real; else the simulator."""
    if not simulated:
        try:
            from hardware.face import FacePipeline

            if FacePipeline.available():
                return PipelineEmbedder()
            log.warning("face stack not installed (%s); using simulated embeddings",
                        FacePipeline.unavailable_reason())
        except ImportError as err:
            log.warning("face pipeline unavailable (%s); using simulated embeddings", err)
    return SimulatedEmbedder()


def make_camera(source: str) -> Camera | None:
    if source == "none":
        return None
    if source == "sim":
        return SimulatedCamera()
    return OpenCvCamera(source)


def embeddings(camera: Camera, embedder: FaceEmbedder, *, frames: int = 3) -> list[list[float]]:
    """Up to `frames` embeddings of the face in front of the camera; frames are discarded here."""
    out = []
    for frame in camera.frames(frames):
        vector = embedder.embed(frame)
        if vector is not None and len(vector) == EMBEDDING_DIM:
            out.append(vector)
    return out


def qr_image(payload: str) -> np.ndarray:
    """A BGR image of a QR code (what the simulated camera shows when a phone is held up)."""
    import qrcode

    img = qrcode.make(payload, border=4, box_size=6).get_image().convert("RGB")
    return np.asarray(img)[:, :, ::-1].copy()


def decode_qr(frame: np.ndarray) -> str | None:
    import cv2

    try:
        text, _points, _ = cv2.QRCodeDetector().detectAndDecode(frame)
    except cv2.error:
        return None
    return text or None
