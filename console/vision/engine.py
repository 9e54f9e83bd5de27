"""One small interface in front of every model pack.

    engine.detect(image)          -> [Detection]          (box, 5 landmarks, score)
    engine.align(image, det)      -> 112x112 aligned crop (ArcFace 5-point template)
    engine.embed([crops])         -> (n, d) float32, each row L2-normalised
    engine.assess(det, crop)      -> Quality              (score and readable reasons)

The bundled YuNet + SFace pair is the default; an InsightFace model pack in a folder
can stand in for it (``load_engine(pack=...)``). Each pack carries its own calibrated
default threshold, because scores of different models live on different scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from console.vision.align import align_face
from console.vision.quality import QualityGate, assess
from console.vision.types import Detection, Quality

# SFace's published cosine threshold (OpenCV Zoo). On shared/data/deepface-pairs it
# gives 0.973 accuracy against 0.977 at the best threshold found there; we keep the
# published value rather than one tuned to a benchmark.
SFACE_DEFAULT_THRESHOLD = 0.363


class FaceEngine(Protocol):
    model_id: str
    default_threshold: float
    embedding_dim: int
    providers: list[str]

    def detect(self, image: np.ndarray) -> list[Detection]: ...

    def align(self, image: np.ndarray, det: Detection) -> np.ndarray: ...

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray: ...

    def assess(self, det: Detection, crop: np.ndarray, gate: QualityGate | None = None,
               frame_shape: tuple[int, ...] | None = None) -> Quality: ...


@dataclass(frozen=True)
class FaceRecord:
    """A face found in a still image, ready to enrol or compare."""

    detection: Detection
    crop: np.ndarray
    quality: Quality
    embedding: np.ndarray


class BundledEngine:
    """YuNet detector + SFace recogniser from resources/models (verified at load)."""

    embedding_dim = 128
    default_threshold = SFACE_DEFAULT_THRESHOLD

    def __init__(self, providers: Sequence[str] | None = None, *, threads: int = 0,
                 models_dir: Path | None = None, det_score: float = 0.6, det_max_side: int = 640) -> None:
        from console.vision.bundled import verify_bundled
        from console.vision.onnx_session import resolve_providers
        from console.vision.sface import SFaceEmbedder
        from console.vision.yunet import YuNetDetector

        files = verify_bundled(models_dir)
        self.providers = resolve_providers(providers)
        self.model_id = files.model_id
        self._detector = YuNetDetector(files.detector, self.providers, score_threshold=det_score,
                                       max_side=det_max_side, threads=threads)
        self._embedder = SFaceEmbedder(files.recogniser, self.providers, threads=threads)

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self._detector.detect(image)

    def align(self, image: np.ndarray, det: Detection) -> np.ndarray:
        return align_face(image, det.landmarks)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        return self._embedder.embed(list(crops))

    def assess(self, det: Detection, crop: np.ndarray, gate: QualityGate | None = None,
               frame_shape: tuple[int, ...] | None = None) -> Quality:
        return assess(det, crop, gate, frame_shape)


def load_engine(pack: str | Path | None = None, providers: Sequence[str] | None = None,
                threads: int = 0) -> FaceEngine:
    """The bundled pair when ``pack`` is None or "bundled", else the pack in that folder."""
    if pack is None or str(pack) == "bundled":
        return BundledEngine(providers, threads=threads)
    from console.vision.insightface_pack import InsightFacePackEngine

    return InsightFacePackEngine(Path(pack), providers)  # insightface sizes its own sessions


def describe_faces(engine: FaceEngine, image: np.ndarray, gate: QualityGate | None = None) -> list[FaceRecord]:
    """Every face in a still image with crop, quality and embedding (one batched embed)."""
    dets = engine.detect(image)
    crops = [engine.align(image, d) for d in dets]
    embs = engine.embed(crops)
    return [FaceRecord(d, c, engine.assess(d, c, gate), e) for d, c, e in zip(dets, crops, embs, strict=False)]


def largest_face(records: list[FaceRecord]) -> FaceRecord | None:
    if not records:
        return None
    return max(records, key=lambda r: r.detection.width * r.detection.height)
