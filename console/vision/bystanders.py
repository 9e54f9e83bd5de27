"""Bystanders' faces made unrecognisable in a frame the console keeps or lets leave.

An alert keeps a context frame for up to 31 days and a case file takes it out of the console;
the people in it who raised no alert should be in neither. Recognition's own detector is tuned
for speed (the frame shrunk to 640 px, score 0.6): at that size a face 20 px wide in a 1280 px
frame is 10 px and goes unseen. Here the detector is run for thoroughness instead:

- the bundled YuNet, loaded apart from the recognition engine (whatever pack that is), at a low
  score threshold (``DETECT_SCORE`` 0.3);
- three passes over the frame: shrunk to 640 px (large, close faces), at its own size, and
  enlarged twice (faces down to about 10 px; a hit wider than ``UPSCALED_MAX_FACE`` there is a
  large face seen at the wrong scale and is dropped). Each pass runs in tiles of at most
  ``TILE`` px a side, so memory stays bounded whatever the frame's size;
- boxes the caller already holds (the engine's own detections) are added to the hits.

Every face found is covered, except the alerted face (a hit overlapping its box by IoU 0.3 or
centred in it): the box and a margin around it (``MARGIN`` of its size, at least ``MIN_PAD`` px)
are blurred with a Gaussian whose sigma is a sixth of the region's width, and an ellipse of the
region's mean colour is drawn over the face itself. Nothing of the face is left to recognise;
the scene still reads. The alerted face's box is restored afterwards, so a bystander's blur never
eats into it, and below the alerted face (``torso_box``) only hits at the recognition detector's
own confidence (``TORSO_SCORE``) are covered: weak hits there are the alerted person's clothes or
hands, which the reviewer needs, and a real face there would be hidden behind that person.

Not caught (docs/security.md): faces the detector does not see as faces - from behind, in
profile beyond about 60 degrees, mostly hidden, or under about 10 px wide in the stored frame -
and the part of a bystander's face that overlaps the alerted face's box. On the 2-core
development machine the three passes take 0.2-0.6 s for a 1280x720 frame (docs/performance.md):
paid once per alert, in the recognition worker, never on the GUI thread.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from console.vision.types import Detection

DETECT_SCORE = 0.3
TORSO_SCORE = 0.6  # the recognition detector's own threshold
OVERVIEW_SIDE = 640
UPSCALE = 2.0
UPSCALED_MAX_FACE = 48.0  # px wide in the frame
TILE = 1600  # px: a 1280x720 frame enlarged twice runs as two tiles of 1360x1440
OVERLAP = 160  # px between tiles: a face up to this size lies whole in one of them
MARGIN = 0.3
MIN_PAD = 4
SAME_FACE_IOU = 0.3
# The cores shared among the alert pool's blurs (console/pipeline/alerting.py runs one per core, at
# most two at once): on two cores one onnxruntime thread each, where two blurs of two threads each
# had fought for both. Measured there (docs/performance.md): alone a blur takes 1.5 times as long,
# two at once 19 % more blurs a second, and in the 8-feed bench the blur's p95 fell in each of three
# pairs (439-514 ms against 529-753). A larger machine gives each blur its share of its cores.
_CORES = os.cpu_count() or 1
THREADS = max(1, _CORES // min(2, _CORES))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def _centre_in(box: np.ndarray, outer: np.ndarray) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3])


def same_face(a: np.ndarray, b: np.ndarray) -> bool:
    return _iou(a, b) >= SAME_FACE_IOU or _centre_in(a, b) or _centre_in(b, a)


def torso_box(face: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """Below the face: the chest and shoulders of the person whose face it is."""
    x1, y1, x2, y2 = (float(v) for v in face)
    w, h = x2 - x1, y2 - y1
    return np.array([x1 - 0.6 * w, y2, x2 + 0.6 * w, min(float(frame_shape[0]), y2 + 3 * h)], np.float32)


def _spans(length: int) -> list[tuple[int, int]]:
    """As few tiles as cover ``length`` at most TILE long each, overlapping by OVERLAP, equal in size."""
    if length <= TILE:
        return [(0, length)]
    n = -(-(length - OVERLAP) // (TILE - OVERLAP))
    size = -(-(length + (n - 1) * OVERLAP) // n)
    starts = np.linspace(0, length - size, n).round().astype(int)
    return [(int(a), int(a) + size) for a in starts]


def _merge(found: Iterable[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, float]]:
    """One box per face: the most confident of the hits that are the same face."""
    kept: list[tuple[np.ndarray, float]] = []
    for box, score in sorted(found, key=lambda f: -f[1]):
        if not any(same_face(box, k) for k, _ in kept):
            kept.append((box, score))
    return kept


class BystanderBlur:
    """Finds every face in a frame (see the module's docstring) and covers all but the alerted one.
    Thread-safe: one instance serves every camera worker (onnxruntime sessions run concurrently)."""

    def __init__(self, detector) -> None:
        self.detector = detector  # a YuNetDetector with max_side >= TILE and score DETECT_SCORE

    @classmethod
    def load(cls, models_dir: Path | None = None, providers: Sequence[str] | None = None) -> BystanderBlur:
        from console.vision.bundled import verify_bundled
        from console.vision.onnx_session import resolve_providers
        from console.vision.yunet import YuNetDetector

        files = verify_bundled(models_dir)
        return cls(YuNetDetector(files.detector, resolve_providers(providers), score_threshold=DETECT_SCORE,
                                 max_side=TILE, threads=THREADS))

    def _pass(self, image: np.ndarray, scale: float) -> list[tuple[np.ndarray, float]]:
        h, w = image.shape[:2]
        if scale == 1.0:
            scaled = image
        else:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        sh, sw = scaled.shape[:2]
        found = []
        for y0, y1 in _spans(sh):
            for x0, x1 in _spans(sw):
                for det in self.detector.detect(scaled[y0:y1, x0:x1]):
                    box = (det.box + np.array([x0, y0, x0, y0], np.float32)) / scale
                    if scale > 1 and box[2] - box[0] > UPSCALED_MAX_FACE:
                        continue
                    found.append((box, det.score))
        return found

    def find_faces(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Every face found, as (box, score), one per face, most confident first."""
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError("find_faces() needs a BGR image of shape (h, w, 3)")
        overview = OVERVIEW_SIDE / max(image.shape[:2])
        scales = ([overview] if overview < 1 else []) + [1.0, UPSCALE]
        return _merge(hit for scale in scales for hit in self._pass(image, scale))

    def blur(self, image: np.ndarray, keep: Sequence[float] | None,
             known: Iterable[Detection | Sequence[float]] = ()) -> tuple[np.ndarray, int]:
        """A copy of ``image`` with every face but the one at box ``keep`` covered, and how many
        were. ``known``: faces already found elsewhere (the engine's detections, same pixels)."""
        out = image.copy()
        hits = self.find_faces(image)
        for k in known:
            box = k.box if isinstance(k, Detection) else k
            hits.append((np.asarray(box, np.float32), 1.0))
        faces = _merge(hits)
        h, w = out.shape[:2]
        target = None if keep is None else np.asarray(keep, np.float32)
        torso = None if target is None else torso_box(target, out.shape)
        covered = 0
        for box, score in faces:
            if target is not None and (same_face(box, target) or (_centre_in(box, torso) and score < TORSO_SCORE)):
                continue
            _cover(out, box)
            covered += 1
        if target is not None and covered:  # a bystander's blur never eats into the alerted face
            x1, y1 = max(0, int(target[0])), max(0, int(target[1]))
            x2, y2 = min(w, int(np.ceil(target[2]))), min(h, int(np.ceil(target[3])))
            out[y1:y2, x1:x2] = image[y1:y2, x1:x2]
        return out, covered


def _cover(image: np.ndarray, box: np.ndarray) -> None:
    x1, y1, x2, y2 = (float(v) for v in box)
    pad = max(MIN_PAD, MARGIN * max(x2 - x1, y2 - y1))
    h, w = image.shape[:2]
    xa, ya = max(0, int(x1 - pad)), max(0, int(y1 - pad))
    xb, yb = min(w, int(np.ceil(x2 + pad))), min(h, int(np.ceil(y2 + pad)))
    if xb <= xa or yb <= ya:
        return
    region = image[ya:yb, xa:xb]
    region[:] = cv2.GaussianBlur(region, (0, 0), max(3.0, (xb - xa) / 6))
    mean = tuple(int(c) for c in region.reshape(-1, 3).mean(axis=0))
    # The ellipse inscribed in the padded box covers the whole face box (its corners too). It is the
    # padded box's own, not the part inside the frame: at the frame's edge the clipped box's ellipse
    # left the face's corner pixels only blurred (found by the mutation check, issue 32).
    centre = (round((x1 + x2) / 2) - xa, round((y1 + y2) / 2) - ya)
    axes = (int(np.ceil((x2 - x1) / 2 + pad)), int(np.ceil((y2 - y1) / 2 + pad)))
    cv2.ellipse(region, centre, axes, 0, 0, 360, mean, -1)


@functools.cache
def shared_blur() -> BystanderBlur:
    """The bundled detector, loaded once per process (``shared_blur.cache_clear()`` forgets it)."""
    return BystanderBlur.load()
