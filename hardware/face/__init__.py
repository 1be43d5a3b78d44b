"""Face pipeline: detection, quality gates, alignment, 128-D dlib embeddings, and 1:N matching."""

from hardware.face.errors import FaceError
from hardware.face.matching import DEFAULT_THRESHOLD, Gallery, Match, distance
from hardware.face.pipeline import FaceAnalysis, FacePipeline, Quality, QualityGates

__all__ = ["DEFAULT_THRESHOLD", "FaceAnalysis", "FaceError", "FacePipeline", "Gallery", "Match", "Quality",
           "QualityGates", "distance"]
