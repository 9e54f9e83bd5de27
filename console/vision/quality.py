"""Face quality: is this face fit to be compared, how much higher must it score, and why.

Small, blurred and turned faces are poorer evidence, so every probe and every enrolment image
is scored on four things an operator can understand: face size in pixels (inter-ocular
distance), sharpness (variance of the Laplacian of the aligned crop), pose estimated from the
five landmarks (``console.vision.pose``), and the detector's own score. A face below a floor is
not searched; a face between a floor and the good-view limit is searched but must beat the
threshold by a margin (``console.vision.margin``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from console.vision.margin import view_margin
from console.vision.pose import estimate_pose
from console.vision.types import Detection, Quality

__all__ = ["QualityGate", "assess", "estimate_pose", "sharpness"]


@dataclass(frozen=True)
class QualityGate:
    """Good-view limits and floors (kept in each deployment's settings; unknown keys are ignored).

    The first six fields are the gate's old limits, now the good-view limits: a face meeting all
    of them is searched against the plain threshold. Between a good-view limit and its floor a
    face is searched with a margin; below a floor (``floor_*``, the detector score and the frame
    edge) it is not searched. A floor is never stricter than its good-view limit: settings that
    loosened a limit past the default floor keep their looser value as the floor too."""

    min_eye_distance_px: float = 12.0
    min_sharpness: float = 20.0
    max_yaw_deg: float = 40.0
    max_pitch_deg: float = 35.0
    max_roll_deg: float = 35.0
    min_detector_score: float = 0.6
    floor_eye_distance_px: float = 8.0
    floor_sharpness: float = 5.0
    floor_yaw_deg: float = 75.0
    floor_pitch_deg: float = 60.0
    floor_roll_deg: float = 60.0

    def __post_init__(self) -> None:
        for floor, limit, lower in (("floor_eye_distance_px", "min_eye_distance_px", True),
                                    ("floor_sharpness", "min_sharpness", True),
                                    ("floor_yaw_deg", "max_yaw_deg", False),
                                    ("floor_pitch_deg", "max_pitch_deg", False),
                                    ("floor_roll_deg", "max_roll_deg", False)):
            f, g = getattr(self, floor), getattr(self, limit)
            object.__setattr__(self, floor, min(f, g) if lower else max(f, g))

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


def _shortfalls(eye_px: float, sharp: float, yaw: float, pitch: float, roll: float,
                gate: QualityGate) -> tuple[list[str], list[str]]:
    """In words: (below a floor - not searched, below a good-view limit - searched with a margin)."""
    floor: list[str] = []
    poor: list[str] = []
    if eye_px < gate.floor_eye_distance_px:
        floor.append(f"face too small: {eye_px:.1f} px between the eyes (not searched under "
                     f"{gate.floor_eye_distance_px:.0f})")
    elif eye_px < gate.min_eye_distance_px:
        poor.append(f"face too small: {eye_px:.1f} px between the eyes (needs {gate.min_eye_distance_px:.0f})")
    if sharp < gate.floor_sharpness:
        floor.append(f"face blurred: sharpness {sharp:.1f} (not searched under {gate.floor_sharpness:.0f})")
    elif sharp < gate.min_sharpness:
        poor.append(f"face blurred: sharpness {sharp:.0f} (needs {gate.min_sharpness:.0f})")
    for value, good, limit, words in (
            (yaw, gate.max_yaw_deg, gate.floor_yaw_deg, f"head turned {abs(yaw):.0f} deg {'left' if yaw < 0 else 'right'}"),
            (pitch, gate.max_pitch_deg, gate.floor_pitch_deg,
             f"head tilted {'down' if pitch > 0 else 'up'} {abs(pitch):.0f} deg"),
            (roll, gate.max_roll_deg, gate.floor_roll_deg, f"head rolled {abs(roll):.0f} deg")):
        if abs(value) > limit:
            floor.append(f"{words} (not searched past {limit:.0f})")
        elif abs(value) > good:
            poor.append(f"{words} (limit {good:.0f})")
    return floor, poor


def cut_off(box, frame_shape: tuple[int, ...]) -> bool:
    """Whether a face box reaches the frame's edge (to within 2 % of its size): part of the face may
    be outside the picture."""
    h, w = frame_shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    edge = 0.02 * max(x2 - x1, y2 - y1)
    return x1 <= edge or y1 <= edge or x2 >= w - edge or y2 >= h - edge


def assess(det: Detection, aligned: np.ndarray, gate: QualityGate | None = None,
           frame_shape: tuple[int, ...] | None = None) -> Quality:
    """Score a face 0..1, say whether it is searched (``passed``) and with what score margin, and
    list in words every limit of the gate it falls short of: floors first ("not searched"), then
    good-view limits (the wording the gate always used; each one adds to the margin).

    With ``frame_shape`` a face cut off by the frame edge is not searched: half a face entering
    the picture is the classic source of a confident wrong match.
    """
    gate = gate or QualityGate()
    lm = np.asarray(det.landmarks, dtype=np.float64)
    eye_px = float(np.linalg.norm(lm[1] - lm[0]))
    sharp = sharpness(aligned)
    yaw, pitch, roll = estimate_pose(lm)
    margins = view_margin(eye_px, sharp, yaw, pitch, roll, gate)
    floor, poor = _shortfalls(eye_px, sharp, yaw, pitch, roll, gate)
    if frame_shape is not None and cut_off(det.box, frame_shape):
        floor.append("face cut off by the frame edge")
    if det.score < gate.min_detector_score:
        floor.append(f"weak detection: score {det.score:.2f} (needs {gate.min_detector_score:.2f})")
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
        passed=not floor,
        reasons=tuple(floor + poor),
        margin=float(sum(margins.values())) if not floor else 0.0,
        good=not floor and not poor,
    )
