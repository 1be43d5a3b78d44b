"""Detect, check quality, align and embed one face per frame with dlib (HOG detector + ResNet descriptor).

Without the `face` extra, `FacePipeline.available()` is False and every call answers
FaceError.UNAVAILABLE; `unavailable_reason()` says what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

from hardware.face.errors import INSTALL_HINT, FaceError
from hardware.face.models import RESNET, SHAPE_5, model_path

log = logging.getLogger(__name__)

CHIP_SIZE = 150  # dlib's aligned face chip for the ResNet descriptor


@dataclass(frozen=True, slots=True)
class QualityGates:
    """The limits a face must meet before we embed it."""

    min_face_px: int = 80  # detector box side in frame pixels
    min_sharpness: float = 20.0  # variance of the Laplacian on the 150x150 aligned chip
    min_brightness: float = 40.0  # mean grey level of the chip
    max_brightness: float = 215.0
    max_yaw: float = 0.35  # nose offset from the eyes' midpoint, in eye distances
    max_roll_deg: float = 25.0
    min_score: float = -0.3  # HOG detector score (dlib's adjust_threshold); higher is more face-like


@dataclass(frozen=True, slots=True)
class Quality:
    face_px: int
    sharpness: float
    brightness: float
    yaw: float
    roll_deg: float
    reasons: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class FaceAnalysis:
    """Everything the pipeline found in one frame."""

    error: FaceError | None
    box: tuple[int, int, int, int] | None = None  # left, top, right, bottom
    score: float | None = None
    quality: Quality | None = None
    embedding: list[float] | None = field(default=None, repr=False)


class FacePipeline:
    """One face per frame: the best-scoring detection, quality gates, dlib alignment, 128-D embedding."""

    def __init__(self, gates: QualityGates | None = None, *, upsample: int = 0) -> None:
        self.gates = gates or QualityGates()
        self.upsample = upsample
        self._dlib = None
        self._detector = None
        self._shape = None
        self._encoder = None

    @staticmethod
    def available() -> bool:
        """True when dlib and its model files are installed."""
        return importlib.util.find_spec("dlib") is not None and model_path(RESNET) is not None \
            and model_path(SHAPE_5) is not None

    @staticmethod
    def unavailable_reason() -> str:
        """What to install, or '' when the pipeline is available."""
        if FacePipeline.available():
            return ""
        return f"face recognition is not installed: {INSTALL_HINT}"

    def load(self) -> bool:
        """Load the models now (else on first use); False when the face stack is not installed."""
        return self._load()

    def _load(self) -> bool:
        if self._encoder is not None:
            return True
        if not self.available():
            return False
        import dlib

        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(model_path(SHAPE_5)))
        self._encoder = dlib.face_recognition_model_v1(str(model_path(RESNET)))
        return True

    @staticmethod
    def _rgb(frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 2:
            return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        if frame.shape[2] == 4:
            return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def detect(self, frame: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """Face boxes with detector scores, best first (choose by score: HOG also fires on non-faces)."""
        if not self._load():
            return []
        rgb = self._rgb(frame)
        rects, scores, _ = self._detector.run(rgb, self.upsample, self.gates.min_score)
        found = [((r.left(), r.top(), r.right(), r.bottom()), float(s))
                 for r, s in zip(rects, scores, strict=True)]
        return sorted(found, key=lambda item: -item[1])

    def _quality(self, box: tuple[int, int, int, int], shape, chip: np.ndarray) -> Quality:  # type: ignore[no-untyped-def]
        grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        brightness = float(grey.mean())
        pts = [(shape.part(i).x, shape.part(i).y) for i in range(5)]
        eye_a = np.mean(pts[0:2], axis=0)
        eye_b = np.mean(pts[2:4], axis=0)
        left_eye, right_eye = (eye_a, eye_b) if eye_a[0] < eye_b[0] else (eye_b, eye_a)
        axis = right_eye - left_eye
        eye_dist = float(np.linalg.norm(axis)) or 1.0
        roll = math.degrees(math.atan2(axis[1], axis[0]))
        mid = (left_eye + right_eye) / 2
        yaw = float(np.dot(np.asarray(pts[4]) - mid, axis / eye_dist)) / eye_dist
        face_px = min(box[2] - box[0], box[3] - box[1])
        g = self.gates
        reasons = []
        if face_px < g.min_face_px:
            reasons.append("too_small")
        if sharpness < g.min_sharpness:
            reasons.append("blurred")
        if not g.min_brightness <= brightness <= g.max_brightness:
            reasons.append("too_dark" if brightness < g.min_brightness else "too_bright")
        if abs(yaw) > g.max_yaw or abs(roll) > g.max_roll_deg:
            reasons.append("not_frontal")
        return Quality(face_px, round(sharpness, 1), round(brightness, 1), round(yaw, 3), round(roll, 1),
                       tuple(reasons))

    def analyse(self, frame: np.ndarray, *, check_quality: bool = True) -> FaceAnalysis:
        """Detect, gate, align and embed the best face in a BGR (or grey) frame."""
        if not self._load():
            return FaceAnalysis(FaceError.UNAVAILABLE)
        rgb = self._rgb(frame)
        rects, scores, _ = self._detector.run(rgb, self.upsample, self.gates.min_score)
        if len(rects) == 0:
            return FaceAnalysis(FaceError.NO_FACE)
        best = int(np.argmax(scores))
        rect, score = rects[best], float(scores[best])
        box = (rect.left(), rect.top(), rect.right(), rect.bottom())
        shape = self._shape(rgb, rect)
        chip = self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE)
        quality = self._quality(box, shape, chip)
        if check_quality and not quality.passed:
            return FaceAnalysis(FaceError.LOW_QUALITY, box, score, quality)
        vector = self._encoder.compute_face_descriptor(chip)
        return FaceAnalysis(None, box, score, quality, [float(v) for v in vector])

    def embed(self, frame: np.ndarray) -> list[float] | FaceError:
        """The 128-D embedding of the best face, or why there is none."""
        result = self.analyse(frame)
        return result.embedding if result.error is None and result.embedding is not None else result.error

    def embed_file(self, path: str | os.PathLike[str], *, upscale: float = 1.0) -> list[float] | FaceError:
        """Embed the face in an image file; `upscale` > 1 enlarges small crops (with a border) first."""
        if not self.available():
            return FaceError.UNAVAILABLE
        frame = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
        if frame is None:
            return FaceError.UNREADABLE
        if upscale != 1.0:
            frame = prepare_small_crop(frame, upscale)
        return self.embed(frame)


def prepare_small_crop(image: np.ndarray, scale: float = 3.0) -> np.ndarray:
    """Enlarge a tight face crop (e.g. ORL's 92x112) and pad it so the detector sees a whole face."""
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    pad = int(20 * scale)
    return cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
