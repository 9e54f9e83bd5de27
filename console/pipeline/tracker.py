"""Joins detections over frames into tracks, so one person raises one alert, not one per frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from console.pipeline.evidence import EntryEvidence


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every box in a (n, 4) and every box in b (m, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


@dataclass
class Track:
    track_id: int
    box: np.ndarray
    velocity: np.ndarray
    last_seen: float
    first_seen: float
    hits: int = 1
    best_quality: float = -1.0
    last_embed_at: float = -1e9
    alerted_entries: set[int] = field(default_factory=set)
    alert_ids: dict[int, int] = field(default_factory=dict)  # entry id -> alert id
    matched_entries: set[int] = field(default_factory=set)  # above threshold, alerted or not
    views_saved: int = 0
    best_alert_quality: float = -1.0
    # entry id -> the scores of this track's best views against it (numbers only, gone with the track)
    evidence: dict[int, EntryEvidence] = field(default_factory=dict)
    # its evidence came close to an alert without reaching it: searched again at the embed interval
    pending: bool = False
    last_assess_at: float = -1e9  # when its view was last aligned and quality-scored
    # Since its last embedding it went unmatched on a detected frame, or came near another face:
    # only then can its detections have come to belong to someone else (see IouTracker.update).
    disturbed: bool = False
    passed_gate: bool = False  # that view's gate result (shown until it is scored again)
    # (yaw, pitch, face px) of the views searched so far: a new one is searched (console/pipeline/schedule.py)
    searched_views: list[tuple[float, float, float]] = field(default_factory=list)

    def predicted(self, t: float) -> np.ndarray:
        return self.box + self.velocity * (t - self.last_seen)


class IouTracker:
    """Greedy matching on IoU against each track's motion-predicted box.

    Cheap and good enough for faces that move a little between analysed frames; a track
    is dropped after ``max_age_s`` unseen.
    """

    def __init__(self, min_iou: float = 0.2, max_age_s: float = 1.0, first_id: int = 1) -> None:
        self.min_iou = min_iou
        self.max_age_s = max_age_s
        self.tracks: list[Track] = []
        self._next_id = first_id

    def update(self, boxes: np.ndarray, t: float) -> list[Track]:
        """Assign each box a track (same order as boxes); create tracks for new faces."""
        self.tracks = [tr for tr in self.tracks if t - tr.last_seen <= self.max_age_s]
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        predicted = np.array([tr.predicted(t) for tr in self.tracks]).reshape(-1, 4)
        overlap = iou(boxes, predicted)
        assigned: list[Track | None] = [None] * len(boxes)
        used: set[int] = set()
        for flat in np.argsort(-overlap, axis=None):
            i, j = np.unravel_index(flat, overlap.shape)
            if overlap[i, j] < self.min_iou:
                break
            if assigned[i] is not None or j in used:
                continue
            tr = self.tracks[j]
            dt = max(t - tr.last_seen, 1e-3)
            tr.velocity = 0.5 * tr.velocity + 0.5 * (boxes[i] - tr.box) / dt
            tr.box, tr.last_seen, tr.hits = boxes[i], t, tr.hits + 1
            assigned[i] = tr
            used.add(int(j))
        for j, tr in enumerate(self.tracks):
            if j not in used:
                tr.disturbed = True  # missed on this frame: whoever is found there next may be someone else
        near = None
        if len(boxes) > 1:  # one face alone is near nobody: no pairwise overlaps on the common frame
            near = iou(_grown(boxes), _grown(boxes))
            np.fill_diagonal(near, 0.0)
        for i, tr in enumerate(assigned):
            if tr is None:
                tr = Track(self._next_id, boxes[i], np.zeros(4, np.float32), t, t)
                self._next_id += 1
                self.tracks.append(tr)
                assigned[i] = tr
            if near is not None and near[i].max() > 0:
                tr.disturbed = True  # faces this close can swap tracks
        return [tr for tr in assigned if tr is not None]


def _grown(boxes: np.ndarray, factor: float = 1.5) -> np.ndarray:
    """Each box grown about its centre (faces that nearly touch count as near)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    return np.hstack([centre - half, centre + half])
