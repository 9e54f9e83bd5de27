"""Face quality: is this face fit to be compared, and if not, why not.

Small, blurred and turned faces cause most false matches, so every probe and every
enrolment image is scored on four things an operator can understand: face size in
pixels (inter-ocular distance), sharpness (variance of the Laplacian of the aligned
crop), pose estimated from the five landmarks, and the detector's own score.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from console.vision.pose import estimate_pose
from console.vision.types import Detection, Quality

__all__ = ["QualityGate", "assess", "estimate_pose", "sharpness"]


@dataclass(frozen=True)
class QualityGate:
    """Limits below which a face is not searched (kept in each deployment's settings)."""

    min_eye_distance_px: float = 12.0
    min_sharpness: float = 20.0
    max_yaw_deg: float = 40.0
    max_pitch_deg: float = 35.0
    max_roll_deg: float = 35.0
    min_detector_score: float = 0.6

    @classmethod
    def from_dict(cls, data: dict) -> QualityGate:
        known = {k: float(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def sharpness(aligned: np.ndarray) -> float:
    """Variance of the Laplacian over the central face region of an aligned crop."""
    gray = aligned if aligned.ndim == 2 else cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    centre = gray[h // 5 : h - h // 10, w // 6 : w - w // 6]
    return float(cv2.Laplacian(centre, cv2.CV_64F).var())


def assess(det: Detection, aligned: np.ndarray, gate: QualityGate | None = None,
           frame_shape: tuple[int, ...] | None = None) -> Quality:
    """Score a face 0..1 and list, in words, every limit of the gate it falls short of.

    With ``frame_shape`` a face cut off by the frame edge fails the gate too: half a face
    entering the picture is the classic source of a confident wrong match.
    """
    gate = gate or QualityGate()
    lm = np.asarray(det.landmarks, dtype=np.float64)
    eye_px = float(np.linalg.norm(lm[1] - lm[0]))
    sharp = sharpness(aligned)
    yaw, pitch, roll = estimate_pose(lm)
    reasons: list[str] = []
    if eye_px < gate.min_eye_distance_px:
        reasons.append(f"face too small: {eye_px:.0f} px between the eyes (needs {gate.min_eye_distance_px:.0f})")
    if sharp < gate.min_sharpness:
        reasons.append(f"face blurred: sharpness {sharp:.0f} (needs {gate.min_sharpness:.0f})")
    if abs(yaw) > gate.max_yaw_deg:
        reasons.append(f"head turned {abs(yaw):.0f} deg {'left' if yaw < 0 else 'right'} (limit {gate.max_yaw_deg:.0f})")
    if abs(pitch) > gate.max_pitch_deg:
        reasons.append(f"head tilted {'down' if pitch > 0 else 'up'} {abs(pitch):.0f} deg (limit {gate.max_pitch_deg:.0f})")
    if abs(roll) > gate.max_roll_deg:
        reasons.append(f"head rolled {abs(roll):.0f} deg (limit {gate.max_roll_deg:.0f})")
    if frame_shape is not None:
        h, w = frame_shape[:2]
        x1, y1, x2, y2 = (float(v) for v in det.box)
        margin = 0.02 * max(x2 - x1, y2 - y1)
        if x1 <= margin or y1 <= margin or x2 >= w - margin or y2 >= h - margin:
            reasons.append("face cut off by the frame edge")
    if det.score < gate.min_detector_score:
        reasons.append(f"weak detection: score {det.score:.2f} (needs {gate.min_detector_score:.2f})")
    # Each factor maps to 0..1; the overall score is their geometric mean, so one very
    # poor factor pulls the whole score down without a single factor zeroing it.
    size_f = min(1.0, eye_px / (2.5 * gate.min_eye_distance_px))
    sharp_f = min(1.0, sharp / (3.0 * gate.min_sharpness))
    pose_f = max(0.0, 1.0 - max(abs(yaw) / 90.0, abs(pitch) / 90.0, abs(roll) / 90.0))
    det_f = float(np.clip(det.score, 0.0, 1.0))
    factors = np.clip([size_f, sharp_f, pose_f, det_f], 0.01, 1.0)
    score = float(np.exp(np.log(factors).mean()))
    return Quality(
        score=score,
        face_px=eye_px,
        sharpness=sharp,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        detector_score=float(det.score),
        passed=not reasons,
        reasons=tuple(reasons),
    )
