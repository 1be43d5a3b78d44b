"""Where the ORL face set is (tests, benchmarks): `SZ_ORL_DIR`, else `shared/datasets/orl_faces` next to the
checkout or next to any folder above it (a worktree sits deeper than the main checkout)."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def orl_dir() -> Path:
    """The folder holding s1/…/1.pgm; the first candidate (what to set) when none has it."""
    env = os.environ.get("SZ_ORL_DIR")
    if env:
        return Path(env)
    candidates = [p / "shared" / "datasets" / "orl_faces" for p in _REPO.parents]
    return next((c for c in candidates if (c / "s1" / "1.pgm").is_file()), candidates[0])
