"""When a camera runs its face detector: every frame while faces are in view, less often when the view is empty.

The detector is most of what a camera costs. While any face was seen within ``hold_s`` (the
tracker keeps a track that long, so a face turned away for a moment keeps the full rate), every
frame is detected. Once the view is empty, a frame is detected when the picture moves against
the frame before, and in any case at least every ``empty_interval_s``.

While faces are in view and every one found on the last full pass is tracked and steady (seen
before it, near no other face), a frame is not detected when the next one will still come within
``carry_s`` (0.2 s) of the last full pass: the tracked boxes are carried to it by their motion
(``carry``). At 25 frames a second that is one full pass in four. Nothing is
searched on a carried frame (embeddings come from full passes only, whose landmarks place the
face), and the display keeps the camera's rate whatever the analysis does. Any new, lost or
crowding face makes the next frame a full pass again.

The longest a new face can go unseen is therefore ``empty_interval_s`` (0.2 s, five frames at
25 fps) after the frame it first appears in, whatever the motion test decides: the motion test
only makes detection sooner, never later; with faces in view, ``carry_s`` while frames come at an
even rate (a frame later than the one before it can stretch that by the difference; at ten
analysed frames a second or fewer, every frame is a full pass).
tests/unit/test_cadence.py walks a face into an empty view at every phase of the interval, and
into a view of carried faces, and checks it.
"""

from __future__ import annotations

import numpy as np

EMPTY_INTERVAL_S = 0.2
CARRY_S = EMPTY_INTERVAL_S
HOLD_S = 1.0
# The motion test looks at every 16th pixel of every 16th row (3,600 samples of a 720p frame): a
# sample moved when any channel changed by more than MOTION_LEVEL grey levels; the picture moved
# when more than MOTION_SHARE of the samples did. A head of 120 px at 720p covers about 50 samples.
MOTION_STEP = 16
MOTION_LEVEL = 24
MOTION_SHARE = 0.004


class DetectionCadence:
    def __init__(self, empty_interval_s: float = EMPTY_INTERVAL_S, hold_s: float = HOLD_S,
                 carry_s: float = CARRY_S) -> None:
        self.empty_interval_s = empty_interval_s
        self.hold_s = hold_s
        self.carry_s = carry_s
        self.last_full_at: float | None = None  # the last frame the detector ran on
        self.carried = 0  # frames whose boxes were carried instead of detected
        self._prev_t: float | None = None
        self._gap = 0.0  # between the last two frames offered
        self.last_detect_at: float | None = None
        self.last_face_at: float | None = None
        self._thumb: np.ndarray | None = None
        self.detected = 0  # frames detected / frames offered: the bench reports the rate
        self.offered = 0

    def due(self, frame: np.ndarray, t: float) -> bool:
        """Whether this frame (captured at ``t``) is to be detected. A clock that jumps back counts as due."""
        self.offered += 1
        self._gap = t - self._prev_t if self._prev_t is not None and t > self._prev_t else 0.0
        self._prev_t = t
        thumb = frame[::MOTION_STEP, ::MOTION_STEP].astype(np.int16)
        moved = self._moved(thumb)
        self._thumb = thumb
        if self.empty_interval_s <= 0 or self.last_detect_at is None:
            return self._detect(t)
        since_face = None if self.last_face_at is None else t - self.last_face_at
        if since_face is not None and 0 <= since_face <= self.hold_s:
            return self._detect(t)
        since = t - self.last_detect_at
        if moved or since < 0 or since >= self.empty_interval_s - 1e-6:
            return self._detect(t)
        return False

    def saw(self, t: float, faces: int) -> None:
        """What the detector found on the frame at ``t``."""
        self.last_full_at = t
        if faces:
            self.last_face_at = t

    def carry(self, t: float, tracks) -> bool:
        """Whether a frame that ``due`` said to detect may carry the tracked boxes instead: the next
        frame (as far after this one as this one after the last) still within ``carry_s`` of the last
        full pass, and every face found on that pass tracked before it and near no other face there
        (console/pipeline/tracker.py). A track missed on it is left to the next full pass, as a new
        face is. Call it only after ``due`` returned True."""
        if self.carry_s <= 0 or self.last_full_at is None or not tracks:
            return False
        since = t - self.last_full_at
        if since < 0 or since + self._gap >= self.carry_s - 1e-6:
            return False
        seen = [tr for tr in tracks if tr.last_seen == self.last_full_at]
        if not seen or any(tr.hits < 2 or tr.near for tr in seen):
            return False
        self.detected -= 1
        self.carried += 1
        self.last_detect_at = self.last_full_at
        return True

    def _detect(self, t: float) -> bool:
        self.last_detect_at = t
        self.detected += 1
        return True

    def _moved(self, thumb: np.ndarray) -> bool:
        before = self._thumb
        if before is None or before.shape != thumb.shape:
            return True
        changed = (np.abs(thumb - before) > MOTION_LEVEL).any(axis=-1) if thumb.ndim == 3 else \
            np.abs(thumb - before) > MOTION_LEVEL
        return float(changed.mean()) > MOTION_SHARE
