"""Face pipeline on the ORL faces: quality gates, embeddings, 1:N matching and identification rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.face import DEFAULT_THRESHOLD, FaceError, FacePipeline, Gallery, distance
from hardware.face.pipeline import prepare_small_crop

ORL_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "orl_faces"
ORL_DIR = Path(os.environ.get("SZ_ORL_DIR", ORL_DEFAULT))
PEOPLE = range(1, 21)
ENROL = (1, 2, 3, 4, 5)
PROBES = (6, 7, 8, 9, 10)

needs_face = pytest.mark.skipif(not FacePipeline.available(), reason=FacePipeline.unavailable_reason())
needs_orl = pytest.mark.skipif(not (ORL_DIR / "s1" / "1.pgm").is_file(),
                               reason=f"ORL face set not found at {ORL_DIR} (set SZ_ORL_DIR)")


def orl(person: int, image: int) -> np.ndarray:
    return cv2.imread(str(ORL_DIR / f"s{person}" / f"{image}.pgm"), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return FacePipeline()


@pytest.fixture(scope="module")
def orl_embeddings(pipeline: FacePipeline) -> dict[tuple[int, int], list[float] | FaceError]:
    return {(p, i): pipeline.embed(prepare_small_crop(orl(p, i))) for p in PEOPLE for i in range(1, 11)}


def test_gallery_search_threshold_and_margin() -> None:
    """GIVEN two enrolled people WHEN probes near one, between both, and far away are searched
    THEN accepted, rejected for a thin margin, and rejected for distance."""
    gallery = Gallery(dim=2)
    gallery.add("alice", [0.0, 0.0])
    gallery.add("alice", [0.05, 0.0])
    gallery.add("bob", [1.0, 0.0])
    match = gallery.search([0.1, 0.0], threshold=0.3, min_margin=0.05)
    assert match is not None and match.accepted and match.ref == "alice" and match.runner_up == "bob"
    assert match.margin == pytest.approx(0.9 - 0.05, abs=1e-6)
    between = gallery.search([0.52, 0.0], threshold=0.6, min_margin=0.05)
    assert between is not None and not between.accepted
    far = gallery.search([5.0, 5.0], threshold=0.3)
    assert far is not None and not far.accepted
    assert Gallery().search([0.0] * 128) is None


def test_gallery_agrees_with_brute_force() -> None:
    """GIVEN 5,000 random embeddings WHEN searched THEN the best ref and distance equal a brute-force scan."""
    rng = np.random.default_rng(7)
    data = rng.normal(size=(5000, 128)).astype(np.float32)
    gallery = Gallery()
    gallery.add_many([f"p{i // 2}" for i in range(5000)], data)
    probe = rng.normal(size=128).astype(np.float32)
    brute = np.linalg.norm(data - probe, axis=1)
    match = gallery.search(probe)
    assert match is not None and match.ref == f"p{int(np.argmin(brute)) // 2}"
    assert match.distance == pytest.approx(float(brute.min()), rel=1e-4)
    assert distance(data[0], probe) == pytest.approx(float(brute[0]), rel=1e-5)


def test_unavailable_without_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """GIVEN no model files WHEN the pipeline is used THEN it reports unavailable with the install command."""
    monkeypatch.setenv("SZ_FACE_MODELS", str(tmp_path))
    assert FacePipeline.available() is False
    assert "pip install 'smartzone[face]'" in FacePipeline.unavailable_reason()
    assert FacePipeline().embed(np.zeros((480, 640, 3), np.uint8)) is FaceError.UNAVAILABLE


@needs_face
def test_no_face_in_an_empty_frame(pipeline: FacePipeline) -> None:
    """GIVEN a flat grey 640x480 frame WHEN embedded THEN no_face."""
    assert pipeline.embed(np.full((480, 640, 3), 128, np.uint8)) is FaceError.NO_FACE


@needs_face
@needs_orl
def test_quality_gates(pipeline: FacePipeline) -> None:
    """GIVEN a good face, then blurred, dark and tiny versions WHEN analysed THEN only the good one is
    embedded, each other fails with the gate that caught it."""
    good = prepare_small_crop(orl(1, 1))
    result = pipeline.analyse(good)
    assert result.error is None and result.embedding is not None and len(result.embedding) == 128
    assert result.quality is not None and result.quality.passed
    blurred = pipeline.analyse(cv2.GaussianBlur(good, (0, 0), 6))
    assert blurred.error in (FaceError.LOW_QUALITY, FaceError.NO_FACE)
    if blurred.quality:
        assert "blurred" in blurred.quality.reasons
    dark = pipeline.analyse((good * 0.2).astype(np.uint8))
    assert dark.error is FaceError.LOW_QUALITY and "too_dark" in dark.quality.reasons
    tiny = cv2.copyMakeBorder(cv2.resize(good, None, fx=0.3, fy=0.3), 100, 100, 100, 100,
                              cv2.BORDER_REPLICATE)
    small = pipeline.analyse(tiny)
    assert small.error in (FaceError.LOW_QUALITY, FaceError.NO_FACE)
    if small.quality:
        assert "too_small" in small.quality.reasons


@needs_face
@needs_orl
def test_same_person_is_closer_than_others(pipeline: FacePipeline) -> None:
    """GIVEN two photos of one person and one of another WHEN embedded THEN the same person is nearer."""
    a, b, c = (pipeline.embed(prepare_small_crop(orl(p, i))) for p, i in ((1, 1), (1, 2), (2, 1)))
    assert isinstance(a, list) and isinstance(b, list) and isinstance(c, list)
    assert distance(a, b) < DEFAULT_THRESHOLD < distance(a, c)


@needs_face
@needs_orl
def test_orl_identification(orl_embeddings: dict, record_property: pytest.RecordProperty) -> None:
    """GIVEN 20 people enrolled from images 1-5 WHEN images 6-10 are identified at the product threshold
    THEN ≥ 95% are identified correctly and ≤ 0.1% of impostor comparisons match."""
    gallery = Gallery()
    for person in PEOPLE:
        for image in ENROL:
            embedding = orl_embeddings[(person, image)]
            assert isinstance(embedding, list), f"s{person}/{image}.pgm: {embedding}"
            gallery.add(f"s{person}", embedding)
    correct = probes = false_matches = impostor_trials = 0
    for person in PEOPLE:
        for image in PROBES:
            probes += 1
            embedding = orl_embeddings[(person, image)]
            if not isinstance(embedding, list):
                continue
            match = gallery.search(embedding)
            correct += bool(match and match.accepted and match.ref == f"s{person}")
            d = gallery.distances(embedding)
            for other in PEOPLE:
                if other != person:
                    impostor_trials += 1
                    rows = [i for i, ref in enumerate(gallery._refs) if ref == f"s{other}"]
                    false_matches += bool(d[rows].min() <= DEFAULT_THRESHOLD)
    rate, fmr = correct / probes, false_matches / impostor_trials
    record_property("orl_identification_rate", rate)
    record_property("orl_false_match_rate", fmr)
    print(f"ORL at threshold {DEFAULT_THRESHOLD}: identification {rate:.3f}, false matches {fmr:.4f} "
          f"({false_matches}/{impostor_trials})")
    assert rate >= 0.95
    assert fmr <= 0.001


@needs_face
@needs_orl
def test_face_embed_cli(tmp_path: Path) -> None:
    """GIVEN a face image, a blank image and a non-image WHEN `smartzone face embed --json` runs
    THEN one JSON line each: an embedding, no_face, unreadable."""
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), prepare_small_crop(orl(3, 1)))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640), 200, np.uint8))
    junk = tmp_path / "junk.jpg"
    junk.write_text("not an image")
    command = [sys.executable, "-m", "smartzone.cli.main", "face", "embed", "--json", str(face), str(blank),
               str(junk)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [str(face), str(blank), str(junk)]
    assert len(lines[0]["embedding"]) == 128
    assert lines[1]["error"] == "no_face" and lines[2]["error"] == "unreadable"
