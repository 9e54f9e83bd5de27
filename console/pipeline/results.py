"""What one analysed frame leaves behind: the overlays to paint and the camera's anonymous counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceOverlay:
    box: tuple[float, float, float, float]
    track_id: int
    passed_gate: bool
    matched: bool
    subject: str | None = None
    score: float | None = None
    rejected: bool = False  # an operator judged this track "different person"


@dataclass(frozen=True)
class FrameResult:
    frame_index: int
    captured_at: float
    faces: list[FaceOverlay]
    alert_ids: list[int]
    embedded: int
    gated: int
    elapsed_s: float
    embedded_tracks: tuple[int, ...] = ()
    detected: bool = True  # False: a frame the detector skipped (console/pipeline/cadence.py)
    carried: bool = False  # True: its boxes are the tracks' carried from the last full pass


class ScoreStats:
    """Counts and a best-score histogram since the last flush; never an identity."""

    def __init__(self) -> None:
        self.analysed = 0
        self.gated = 0
        self.best_scores: list[float] = []

    def take(self) -> tuple[int, int, np.ndarray]:
        out = (self.analysed, self.gated, np.array(self.best_scores, dtype=np.float32))
        self.analysed, self.gated, self.best_scores = 0, 0, []
        return out

    def put_back(self, analysed: int, gated: int, best: np.ndarray) -> None:
        """Counts that could not be stored are kept for the next flush."""
        self.analysed += analysed
        self.gated += gated
        self.best_scores[:0] = [float(v) for v in best]
