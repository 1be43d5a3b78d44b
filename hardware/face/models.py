"""Where dlib's model files are: found without importing face_recognition_models (it needs pkg_resources)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SHAPE_5 = "shape_predictor_5_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path | None:
    """The folder with dlib's .dat files: SZ_FACE_MODELS, else the face_recognition_models package."""
    env = os.environ.get("SZ_FACE_MODELS")
    if env:
        return Path(env)
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def model_path(name: str) -> Path | None:
    folder = models_dir()
    path = folder / name if folder else None
    return path if path is not None and path.is_file() else None
