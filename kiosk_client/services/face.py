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
        return [base.copy() for _ in range(n)]  # one still person; the embedder varies each frame a little

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
        out: list[np.ndarray] = []
        rewound = False
        while len(out) < n:
            ok, frame = self._cap.read()
            if not ok:
                if rewound or isinstance(self.source, int):
                    break
                self._cap.release()  # a video file (the demo's, the simulator's) plays again from the start
                self._cap = cv2.VideoCapture(self.source)
                rewound = True
                continue
            out.append(frame)
        if not out:
            raise CameraError(f"camera {self.source!r} gives no frames")
        return out

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()


class SimulatedEmbedder:
    """A fixed vector per image content (at dlib's scale) plus a little noise per frame, like a real face's frames:
    the same simulated person enrols (the frames agree) and matches later; no face stack."""

    def __init__(self) -> None:
        self._frames = 0

    def embed(self, frame: np.ndarray) -> list[float] | None:
        digest = hashlib.sha256(frame[::8, ::8].tobytes()[:4096]).digest()
        v = np.random.default_rng(int.from_bytes(digest[:8], "big")).normal(size=EMBEDDING_DIM)
        self._frames += 1
        noise = np.random.default_rng(self._frames).normal(scale=0.01, size=EMBEDDING_DIM)
        return [round(float(x), 6) for x in v / np.linalg.norm(v) * 0.9 + noise]


class PipelineEmbedder:
    """hardware.face's dlib pipeline (the `face` extra): detection, quality gates, 128-D descriptor."""

    def __init__(self) -> None:
        from hardware.face import FacePipeline

        self._pipeline = FacePipeline()
        # Load dlib's models now, on the thread that builds the kiosk: loaded lazily on the camera's QThread, the
        # second capture there crashed the process (segfault in the descriptor; dlib 19.24 under PySide6).
        self._pipeline.load()

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
