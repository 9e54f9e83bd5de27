"""An InsightFace model pack in a folder, behind the same engine interface.

Two layouts are understood, both through insightface's own FaceAnalysis loader:
- a FaceAnalysis pack (buffalo_l-style): a folder of .onnx files routed by their shapes;
- an insightface manifest-v2 package: manifest.json with ``manifest_version: 2``.
Only detection and recognition are loaded. The models are never downloaded: the folder
must hold them (their licences are the operator's to hold; buffalo_l and antelopev2 are
for non-commercial research only).

The pack's default threshold comes from ``console-pack.json`` in the folder
(``{"default_threshold": 0.3}``) when present, else from the table below, else the
generic ArcFace value with the pack marked uncalibrated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from console.errors import ModelError
from console.vision.quality import QualityGate, assess
from console.vision.sface import l2_normalise
from console.vision.types import Detection, Quality

# Cosine thresholds commonly used for the ArcFace-family packs (w600k_r50, glint360k_r100).
KNOWN_THRESHOLDS = {"buffalo_l": 0.30, "buffalo_m": 0.30, "buffalo_s": 0.30, "antelopev2": 0.30}
GENERIC_ARCFACE_THRESHOLD = 0.30


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelError(f"model pack folder {folder} does not exist")
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text())
        except ValueError as exc:
            raise ModelError(f"model pack manifest {manifest} is not valid JSON: {exc}") from exc
        if doc.get("manifest_version") == 2:
            tasks = doc.get("tasks") or {}
            missing = [t for t in ("detection",) if t not in tasks]
            if "recognition" not in tasks and "verification" not in tasks:
                missing.append("recognition")
            if missing:
                raise ModelError(f"model pack {folder}: manifest.json declares no {' and no '.join(missing)} task")
            return
    onnx_files = sorted(folder.glob("*.onnx"))
    if not onnx_files:
        raise ModelError(
            f"model pack {folder} holds no .onnx files: a pack needs a detector (e.g. det_10g.onnx) "
            "and a recogniser (e.g. w600k_r50.onnx)"
        )


class InsightFacePackEngine:
    def __init__(self, folder: Path, providers: Sequence[str] | None = None) -> None:
        from console.vision.onnx_session import resolve_providers

        folder = Path(folder).expanduser().resolve()
        _check_folder(folder)
        self.providers = resolve_providers(providers)
        try:
            from insightface.app import FaceAnalysis
        except ImportError as exc:  # pragma: no cover - insightface is a core dependency
            raise ModelError(f"insightface is not installed, so model pack {folder} cannot load: {exc}") from exc
        try:
            app = FaceAnalysis(name=str(folder), allowed_modules=["detection", "recognition"], providers=self.providers)
        except AssertionError as exc:
            raise ModelError(
                f"model pack {folder} has no face detector insightface recognises "
                "(an SCRFD or RetinaFace .onnx such as det_10g.onnx)"
            ) from exc
        except Exception as exc:
            raise ModelError(f"model pack {folder} could not be loaded: {exc}") from exc
        det = app.models.get("detection")
        rec = app.models.get("recognition") or app.models.get("verification")
        if rec is None:
            raise ModelError(
                f"model pack {folder} has no recognition model insightface recognises "
                "(an ArcFace .onnx with a 112x112 input such as w600k_r50.onnx)"
            )
        det.prepare(0, input_size=(640, 640), det_thresh=0.5)
        self._det = det
        self._rec = rec
        self.embedding_dim = int(rec.output_shape[-1]) if rec.output_shape else 512
        self.default_threshold, self.calibrated = self._threshold(folder)
        self.model_id = f"insightface:{folder.name}"

    @staticmethod
    def _threshold(folder: Path) -> tuple[float, bool]:
        override = folder / "console-pack.json"
        if override.is_file():
            try:
                return float(json.loads(override.read_text())["default_threshold"]), True
            except (ValueError, KeyError, TypeError) as exc:
                raise ModelError(f"{override} must hold {{\"default_threshold\": <number>}}: {exc}") from exc
        if folder.name in KNOWN_THRESHOLDS:
            return KNOWN_THRESHOLDS[folder.name], True
        return GENERIC_ARCFACE_THRESHOLD, False

    def detect(self, image: np.ndarray) -> list[Detection]:
        bboxes, kpss = self._det.detect(image, input_size=(640, 640))
        if kpss is None:
            raise ModelError("the pack's detector gives no landmarks, so faces cannot be aligned")
        return [
            Detection(box=b[:4].astype(np.float32), landmarks=k.astype(np.float32), score=float(b[4]))
            for b, k in zip(bboxes, kpss, strict=False)
        ]

    def align(self, image: np.ndarray, det: Detection) -> np.ndarray:
        from insightface.utils import face_align

        size = int(self._rec.input_size[0])
        return face_align.norm_crop(image, landmark=det.landmarks, image_size=size)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.embedding_dim), dtype=np.float32)
        return l2_normalise(np.asarray(self._rec.get_feat(list(crops))).reshape(len(crops), -1))

    def assess(self, det: Detection, crop: np.ndarray, gate: QualityGate | None = None,
               frame_shape: tuple[int, ...] | None = None) -> Quality:
        return assess(det, crop, gate, frame_shape)
