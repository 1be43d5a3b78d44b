"""Why a frame gave no embedding; the strings are what `smartzone face embed --json` prints."""

from enum import StrEnum

INSTALL_HINT = "pip install 'smartzone[face]'  (dlib-bin and face_recognition_models, from PyPI, offline)"


class FaceError(StrEnum):
    UNAVAILABLE = "unavailable"  # the `face` extra is not installed
    UNREADABLE = "unreadable"  # the file is not an image
    NO_FACE = "no_face"
    LOW_QUALITY = "low_quality"  # too small, blurred, too dark/bright, or not frontal
