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
    # Since its last embedding it went unmatched on a detected frame, came near another face, or
    # was near a face that went unmatched: only then can its detections have come to belong to
    # someone else (see IouTracker.update).
    disturbed: bool = False
    # Since its last embedding its face reached the frame's edge on a detected frame. One walker
    # leaving at the edge while another enters there can hand over one track with no miss and no
    # other face near: the face that comes back into full view is searched as a new view.
    cut_off: bool = False
    near: bool = False  # near another face on the last pass (console/pipeline/cadence.py carries no such track)
    near_ids: frozenset[int] = frozenset()  # the tracks it was near on the last pass
    passed_gate: bool = False  # that view's gate result (shown until it is scored again)
    # (yaw, pitch, face px) of the views searched so far: a new one is searched (console/pipeline/schedule.py)
    searched_views: list[tuple[float, float, float]] = field(default_factory=list)

    def predicted(self, t: float) -> np.ndarray:
        return self.box + self.velocity * (t - self.last_seen)


class IouTracker:
    """Greedy matching on IoU against each track's motion-predicted box.

    Cheap and good enough for faces that move a little between analysed frames; what overlap
    leaves unmatched is matched by centre distance and size (``_match_by_centre``), so a face that
    moved further than its width between two analysed frames keeps its track. A track is dropped
    after ``max_age_s`` unseen.
    """

    def __init__(self, min_iou: float = 0.2, max_age_s: float = 1.0, first_id: int = 1,
                 max_shift: float = 1.0, max_scale: float = 1.5) -> None:
        self.min_iou = min_iou
        self.max_shift = max_shift
        self.max_scale = max_scale
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
            self._extend(tr, boxes[i], t)
            assigned[i] = tr
            used.add(int(j))
        self._match_by_centre(boxes, predicted, assigned, used, t)
        lost = set()
        for j, tr in enumerate(self.tracks):
            if j not in used:
                tr.disturbed = True  # missed on this frame: whoever is found there next may be someone else
                lost.add(tr.track_id)
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
        for i, tr in enumerate(assigned):
            if tr.near_ids & lost:
                # Beside a face that is gone now: what it follows may be that face. Two faces that
                # overlap at the edge, one leaving, one entering, can leave one track on the other's
                # face the frame after it was searched, with no miss and no face near it any more.
                tr.disturbed = True
            tr.near_ids = frozenset() if near is None else frozenset(
                assigned[k].track_id for k in np.nonzero(near[i] > 0)[0])
            tr.near = bool(tr.near_ids)
            if tr.near:
                tr.disturbed = True  # faces this close can swap tracks
        return list(assigned)

    def _match_by_centre(self, boxes: np.ndarray, predicted: np.ndarray, assigned: list, used: set[int],
                         t: float) -> None:
        """Faces left unmatched by overlap, matched to tracks left unmatched by where their centre is:
        within ``max_shift`` of the face's size of the predicted centre, at a size within ``max_scale``.
        A face that moved further than its own width between analysed frames (a busy machine analyses
        five frames a second, and a face walking across a corridor moves that far) is still the same
        track; faces near each other are marked disturbed below, whatever matched them."""
        free_boxes = [i for i, tr in enumerate(assigned) if tr is None]
        free_tracks = [j for j in range(len(self.tracks)) if j not in used]
        if not free_boxes or not free_tracks:
            return
        bc, bs = _centre_size(boxes[free_boxes])
        pc, ps = _centre_size(predicted[free_tracks])
        dist = np.linalg.norm(bc[:, None, :] - pc[None, :, :], axis=2) / np.maximum(bs[:, None], ps[None, :])
        ratio = np.maximum(bs[:, None] / ps[None, :], ps[None, :] / bs[:, None])
        dist[ratio > self.max_scale] = np.inf
        for flat in np.argsort(dist, axis=None):
            a, b = np.unravel_index(flat, dist.shape)
            if dist[a, b] > self.max_shift:
                break
            i, j = free_boxes[a], free_tracks[b]
            if assigned[i] is not None or j in used:
                continue
            self._extend(self.tracks[j], boxes[i], t)
            assigned[i] = self.tracks[j]
            used.add(j)

    @staticmethod
    def _extend(tr: Track, box: np.ndarray, t: float) -> None:
        dt = max(t - tr.last_seen, 1e-3)
        tr.velocity = 0.5 * tr.velocity + 0.5 * (box - tr.box) / dt
        tr.box, tr.last_seen, tr.hits = box, t, tr.hits + 1


def _centre_size(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (boxes[:, :2] + boxes[:, 2:]) / 2, np.sqrt(np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-3), axis=1))


def _grown(boxes: np.ndarray, factor: float = 1.5) -> np.ndarray:
    """Each box grown about its centre (faces that nearly touch count as near)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    return np.hstack([centre - half, centre + half])
