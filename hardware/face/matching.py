"""Matching 128-D embeddings: distance, threshold, margin to the runner-up, and a fast 1:N gallery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Euclidean distance under which two dlib embeddings are taken as the same person. dlib's own
# rule of thumb (LFW) is 0.6; on the ORL set that gives ~7% false matches, 0.5 gives ~0.3%, 0.45
# none of 1,900 with every genuine probe accepted (docs/benchmarks.md, "Face pipeline").
# Recognition is only a greeting hint, so a false match costs more than a missed one.
DEFAULT_THRESHOLD = 0.45
# The best candidate must beat the best other person by this much, or the match is ambiguous.
DEFAULT_MARGIN = 0.03


def distance(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Euclidean distance between two embeddings."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))


@dataclass(frozen=True, slots=True)
class Match:
    """The best candidate for a probe and how sure we are."""

    ref: str
    distance: float
    runner_up: str | None
    runner_up_distance: float | None
    accepted: bool

    @property
    def margin(self) -> float | None:
        """How much closer the best person is than the next best person."""
        return None if self.runner_up_distance is None else self.runner_up_distance - self.distance


class Gallery:
    """Enrolled embeddings in one float32 matrix; a probe is searched with one matrix-vector product."""

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim
        self._matrix = np.empty((0, dim), dtype=np.float32)
        self._norms = np.empty(0, dtype=np.float32)
        self._refs: list[str] = []
        self._ref_ids = np.empty(0, dtype=np.int64)
        self._ref_index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def add(self, ref: str, embedding: Sequence[float] | np.ndarray) -> None:
        self.add_many([ref], np.asarray(embedding, dtype=np.float32).reshape(1, -1))

    def add_many(self, refs: Sequence[str], embeddings: np.ndarray) -> None:
        """Enrol many templates at once (one row per ref; a person may have several rows)."""
        matrix = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        if len(refs) != len(matrix):
            raise ValueError("one ref per embedding")
        ids = np.array([self._ref_index.setdefault(r, len(self._ref_index)) for r in refs], dtype=np.int64)
        self._matrix = np.vstack([self._matrix, matrix])
        self._norms = np.concatenate([self._norms, np.einsum("ij,ij->i", matrix, matrix)])
        self._refs.extend(refs)
        self._ref_ids = np.concatenate([self._ref_ids, ids])

    def distances(self, probe: Sequence[float] | np.ndarray) -> np.ndarray:
        """Distance from the probe to every enrolled row."""
        p = np.asarray(probe, dtype=np.float32)
        squared = self._norms - 2.0 * (self._matrix @ p) + float(p @ p)
        return np.sqrt(np.maximum(squared, 0.0))

    def search(self, probe: Sequence[float] | np.ndarray, *, threshold: float = DEFAULT_THRESHOLD,
               min_margin: float = DEFAULT_MARGIN) -> Match | None:
        """The closest person, the runner-up (another person), and whether threshold and margin are met."""
        if not self._refs:
            return None
        p = np.asarray(probe, dtype=np.float32)
        # Squared distance less |p|², in two passes over the matrix; sqrt only for the few kept.
        d = self._matrix @ (-2.0 * p)
        d += self._norms
        k = min(len(d), 16)
        top = np.argpartition(d, k - 1)[:k] if k < len(d) else np.arange(len(d))
        top = top[np.argsort(d[top])]
        best = int(top[0])
        others = [int(i) for i in top[1:] if self._ref_ids[i] != self._ref_ids[best]]
        if not others and len(self._ref_index) > 1:  # every near row is the same person: scan the rest
            others = [int(np.argmin(np.where(self._ref_ids != self._ref_ids[best], d, np.inf)))]
        second = others[0] if others else None
        pp = float(p @ p)

        def dist(i: int) -> float:
            return float(np.sqrt(max(float(d[i]) + pp, 0.0)))

        match = Match(ref=self._refs[best], distance=dist(best),
                      runner_up=self._refs[second] if second is not None else None,
                      runner_up_distance=dist(second) if second is not None else None, accepted=False)
        accepted = match.distance <= threshold and (match.margin is None or match.margin >= min_margin)
        return Match(match.ref, match.distance, match.runner_up, match.runner_up_distance, accepted)
