"""Plain data passed between the vision functions: ndarray in, dataclass out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One detected face in image pixel coordinates.

    box is (x1, y1, x2, y2); landmarks are five (x, y) points in the order right eye,
    left eye (as seen in the image: the subject's right eye is on the image's left), nose
    tip, right mouth corner, left mouth corner - the order of the ArcFace template.
    """

    box: np.ndarray
    landmarks: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    def as_dict(self) -> dict:
        return {
            "bbox": [round(float(v), 1) for v in self.box],
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class Quality:
    """How fit a face is for comparison, with the reasons a person can read.

    ``passed``: the face is searched (it is above every floor of the quality gate). ``margin``:
    how much higher than the threshold its score must be, because it is poorer than a good view
    (0 for a good view). ``good``: it meets every good-view limit (what enrolment asks).
    ``reasons`` names every limit it falls short of, floors and good-view limits alike."""

    score: float
    face_px: float
    sharpness: float
    yaw: float
    pitch: float
    roll: float
    detector_score: float
    passed: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    margin: float = 0.0
    good: bool | None = None  # None: passed with no reason

    def __post_init__(self) -> None:
        if self.good is None:
            object.__setattr__(self, "good", self.passed and not self.reasons)

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 3),
            "face_px": round(self.face_px, 1),
            "sharpness": round(self.sharpness, 1),
            "yaw": round(self.yaw, 1),
            "pitch": round(self.pitch, 1),
            "roll": round(self.roll, 1),
            "detector_score": round(self.detector_score, 3),
            "passed": self.passed,
            "reasons": list(self.reasons),
            "margin": round(self.margin, 4),
            "good": self.good,
        }
