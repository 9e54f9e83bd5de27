"""The recognition step of one camera: a pure-ish function of the newest frame.

Privacy by construction: the embedding and crop of a face that matches nobody are local
variables of ``process`` and are gone when it returns. Only three things leave it: the
overlays to paint (boxes, track ids, matched or not), aggregate counts and a histogram
of best-match scores (no identities), and - for a match - the alert written to the store, its
context frame with every face but the alerted one blurred first (console/vision/bystanders.py).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from console.clock import wall
from console.domain import AlertRecord
from console.errors import AlertRefused, ConsoleError
from console.pipeline.cadence import EMPTY_INTERVAL_S, DetectionCadence
from console.pipeline.evidence import EVIDENCE_VIEWS, SINGLE_VIEW_MARGIN, EntryEvidence, ViewScore, decide
from console.pipeline.frames import context_frame, encode_jpeg, face_in_probe, iso, probe_crop
from console.pipeline.gallery import Gallery
from console.pipeline.tracker import IouTracker
from console.vision.bystanders import BystanderBlur, shared_blur
from console.vision.engine import FaceEngine
from console.vision.quality import QualityGate

log = logging.getLogger(__name__)


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
    detected: bool = True  # False: an empty view's frame the detector skipped (console/pipeline/cadence.py)


@dataclass
class RecognizerSettings:
    threshold: float
    top_k: int = 3
    embed_interval_s: float = 0.25
    # A track is embedded again at least this often even without a better view when it may have
    # swapped identities (it came near another face or was missed on a frame: Track.disturbed): a
    # swapped track must not hide a face for long. A face tracked alone, frame after frame, cannot swap.
    refresh_s: float = 1.0
    realert_window_s: float = 120.0
    gate: QualityGate = field(default_factory=QualityGate)
    # The track decides (console/pipeline/evidence.py): the weighted mean of its best views against
    # the threshold plus their margins; one view alone must clear single_view_margin more.
    evidence_views: int = EVIDENCE_VIEWS
    single_view_margin: float = SINGLE_VIEW_MARGIN
    # A track whose evidence falls short by less than this is searched again at embed_interval_s.
    pending_window: float = 0.05
    # A track not due for an embedding is neither aligned nor quality-scored; one that is due is
    # scored at most this often (its view may improve on any frame, but a tenth of a second is enough).
    assess_interval_s: float = 0.1
    # An empty view is detected at least this often (and at once on motion); 0: every frame.
    detect_empty_every_s: float = EMPTY_INTERVAL_S
    # The exhaustive pass (bench recall, audits of the schedule): every face that passes the gate is
    # embedded on every frame, and every frame is detected; the schedule above is then not used.
    every_view: bool = False


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


# Alerts that could not be written (database locked, disk full, server gone) wait in memory,
# in order, and are written as soon as the store takes them again. The cap keeps a store
# that never returns from eating the machine's memory (each alert holds two JPEGs).
OUTBOX_MAX = 500
OUTBOX_RETRY_S = 2.0


@dataclass
class _PendingAlert:
    record: AlertRecord
    track: object
    entry_id: int
    raised_at: float


class CameraRecognizer:
    """Detect -> track -> embed (when a track's view improves) -> search -> weigh the track's views -> alert.

    A view below the quality floor is not searched; a poorer view above it is, but must score
    higher (its margin); a track alerts on its evidence over views, not on one frame."""

    def __init__(
        self,
        engine: FaceEngine,
        gallery: Gallery,
        *,
        deployment_id: int,
        camera_id: int,
        settings: RecognizerSettings,
        write_alert: Callable[[AlertRecord], int],
        is_decided: Callable[[int], bool] = lambda _alert_id: False,
        subject_names: dict[int, str] | None = None,
        clock: Callable[[], float] = wall,
        write_view: Callable[[int, bytes, float, dict, str], object] | None = None,
        max_views: int = 4,
        suppressed: set[tuple[int, int]] | None = None,
        first_track_id: int = 1,
        bystanders: BystanderBlur | None = None,
        keep_context: bool = True,
    ) -> None:
        self.engine = engine
        self.bystanders = bystanders  # None: the bundled detector, loaded at the first alert
        self.keep_context = keep_context  # False (scan): alerts carry no context frame, so none is blurred
        self.gallery = gallery
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.settings = settings
        self.write_alert = write_alert
        self.is_decided = is_decided
        self.subject_names = subject_names or {}
        self.clock = clock
        self.write_view = write_view
        self.max_views = max_views
        self.tracker = IouTracker(first_id=first_track_id)
        self.cadence = DetectionCadence(settings.detect_empty_every_s, self.tracker.max_age_s)
        self.stats = ScoreStats()
        self._recent: dict[int, tuple[int, float]] = {}  # entry_id -> (alert_id, when)
        # (track id, entry id) judged "different person"; loaded from the store at start, then kept up
        # to date by the deployment's change feed (a decision on any seat reaches every camera).
        self.suppressed: set[tuple[int, int]] = set(suppressed or ())
        self.outbox: deque[_PendingAlert] = deque()
        self.outbox_dropped = 0
        # Alerts the database refused for good: the deployment was stopped or ended while they were
        # being raised. Kept out of the outbox (retrying cannot help) and counted for the operator.
        self.refused = 0
        self.refusal = ""
        self.store_problem = ""  # the last write failure, while alerts are waiting; "" when all is written
        self._next_retry = 0.0

    def suppress(self, track_id: int, entry_id: int) -> None:
        """No further alert (nor match mark) for this track and subject. Thread-safe (one set.add)."""
        self.suppressed.add((track_id, entry_id))

    def _may_alert(self, entry_id: int, now: float) -> bool:
        recent = self._recent.get(entry_id)
        if recent is None:
            return True
        alert_id, when = recent
        return now - when > self.settings.realert_window_s or (alert_id >= 0 and self.is_decided(alert_id))

    def drain_outbox(self, force: bool = False) -> list[int]:
        """Write waiting alerts, oldest first, and return the new ids. Tries at most every
        OUTBOX_RETRY_S (a locked database makes each try wait), unless ``force``."""
        if not self.outbox or (not force and time.monotonic() < self._next_retry):
            return []
        written: list[int] = []
        while self.outbox:
            pending = self.outbox[0]
            try:
                alert_id = self.write_alert(pending.record)
            except AlertRefused as exc:
                self.outbox.popleft()
                self._refused(exc)
                continue
            except ConsoleError as exc:
                self.store_problem = str(exc)
                self._next_retry = time.monotonic() + OUTBOX_RETRY_S
                return written
            self.outbox.popleft()
            pending.track.alert_ids[pending.entry_id] = alert_id
            self._recent[pending.entry_id] = (alert_id, pending.raised_at)
            written.append(alert_id)
        self.store_problem = ""
        return written

    def _refused(self, exc: AlertRefused) -> None:
        self.refused += 1
        self.refusal = str(exc)

    def _write_or_hold(self, record: AlertRecord, tr, entry_id: int, now: float) -> int | None:
        """Write the alert now, or - when the store refuses, or older alerts are still waiting -
        queue it behind them. The track counts as alerted either way: no duplicate alerts."""
        if not self.outbox:
            try:
                return self.write_alert(record)
            except AlertRefused as exc:
                self._refused(exc)
                return None
            except ConsoleError as exc:
                self.store_problem = str(exc)
                self._next_retry = time.monotonic() + OUTBOX_RETRY_S
        if len(self.outbox) >= OUTBOX_MAX:
            self.outbox.popleft()
            self.outbox_dropped += 1
        self.outbox.append(_PendingAlert(record, tr, entry_id, now))
        return None

    def _maybe_save_view(self, frame, box, tr, entry_id: int, score: float, quality, captured_at: float) -> None:
        """Keep a better view of a track that raised an alert (at most max_views)."""
        alert_id = tr.alert_ids.get(entry_id)
        if (self.write_view is None or alert_id is None or tr.views_saved >= self.max_views
                or quality.score < tr.best_alert_quality + 0.03):
            return
        tr.best_alert_quality = quality.score
        tr.views_saved += 1
        try:
            self.write_view(alert_id, encode_jpeg(probe_crop(frame, box)), score, quality.as_dict(), iso(captured_at))
        except ConsoleError as exc:  # a better view is a nicety; the alert itself is written
            self.store_problem = str(exc)

    def _context(self, frame: np.ndarray, box: np.ndarray, dets: list) -> tuple[bytes, float]:
        """The context frame as stored: shrunk to 1280 px wide, every face but the alerted one
        made unrecognisable first (console/vision/bystanders.py). A frame whose bystanders cannot
        be blurred is not kept at all: the alert is raised without it."""
        ctx, scale = context_frame(frame)
        if not self.keep_context:
            return b"", scale
        try:
            blur = self.bystanders or shared_blur()
            ctx, _ = blur.blur(ctx, box * scale, [d.box * scale for d in dets])
        except Exception as exc:  # whatever failed, the unblurred frame must not be stored
            log.warning("camera %s: the alert's context frame was not kept: bystanders' faces could not be"
                        " blurred (%s)", self.camera_id, exc)
            return b"", scale
        return encode_jpeg(ctx, 85), scale

    def process(self, frame: np.ndarray, captured_at: float, frame_index: int = 0) -> FrameResult:
        started = time.perf_counter()
        s = self.settings
        if not s.every_view and not self.cadence.due(frame, captured_at):
            return FrameResult(frame_index, captured_at, [], [], 0, 0, time.perf_counter() - started, detected=False)
        dets = self.engine.detect(frame)
        self.cadence.saw(captured_at, len(dets))
        tracks = self.tracker.update(np.array([d.box for d in dets]).reshape(-1, 4), captured_at)
        to_embed: list[int] = []
        crops: list[np.ndarray] = []
        qualities: dict[int, object] = {}
        gated = 0
        for i, (det, tr) in enumerate(zip(dets, tracks, strict=False)):
            since = captured_at - tr.last_embed_at
            if not s.every_view and ((tr.best_quality >= 0 and 0 <= since < s.embed_interval_s)
                                     or 0 <= captured_at - tr.last_assess_at < s.assess_interval_s):
                continue  # not due: no alignment, no scoring (its overlay keeps its last gate result)
            crop = self.engine.align(frame, det)
            q = self.engine.assess(det, crop, s.gate, frame.shape)
            qualities[i] = q
            tr.last_assess_at, tr.passed_gate = captured_at, q.passed
            if not q.passed:
                gated += 1
                continue
            improved = q.score > tr.best_quality + 0.02
            again = (improved or tr.pending) and since >= s.embed_interval_s
            if s.every_view or tr.best_quality < 0 or again or (since >= s.refresh_s and tr.disturbed):
                to_embed.append(i)
                crops.append(crop)
        matches: dict[int, tuple[str | None, float]] = {}
        alert_ids: list[int] = []
        if crops:
            embeddings = self.engine.embed(crops)
            results = self.gallery.search(embeddings, k=s.top_k)
            for i, cands in zip(to_embed, results, strict=False):
                tr = tracks[i]
                tr.best_quality = max(tr.best_quality, qualities[i].score)
                tr.last_embed_at, tr.disturbed = captured_at, False
                best = cands[0].score if cands else -1.0
                self.stats.best_scores.append(best)
                if not cands:
                    continue
                q = qualities[i]
                for c in cands:
                    tr.evidence.setdefault(c.entry_id, EntryEvidence()).add(ViewScore(c.score, q.margin, q.score),
                                                                            s.evidence_views)
                top = cands[0]
                if (tr.track_id, top.entry_id) in self.suppressed:
                    tr.pending = False
                    continue
                verdict = decide(tr.evidence[top.entry_id], ViewScore(best, q.margin, q.score), s.threshold,
                                 k=s.evidence_views, single_view_margin=s.single_view_margin)
                tr.pending = not verdict.alert and verdict.track_score >= verdict.needed - s.pending_window
                if not verdict.alert:
                    continue
                matches[i] = (self.subject_names.get(top.entry_id), best)
                tr.matched_entries.add(top.entry_id)
                now = self.clock()
                if top.entry_id in tr.alerted_entries:
                    self._maybe_save_view(frame, dets[i].box, tr, top.entry_id, best, q, captured_at)
                    continue
                if not self._may_alert(top.entry_id, now):
                    continue
                context_jpeg, scale = self._context(frame, dets[i].box, dets)
                record = AlertRecord(
                    deployment_id=self.deployment_id,
                    camera_id=self.camera_id,
                    track_id=tr.track_id,
                    candidates=[(c.entry_id, c.image_id, c.score) for c in cands],
                    threshold=s.threshold,
                    model_id=self.engine.model_id,
                    bbox=[round(float(v) * scale, 1) for v in dets[i].box],
                    quality={**q.as_dict(), **verdict.as_dict(), "probe_box": face_in_probe(frame.shape, dets[i].box)},
                    probe_jpeg=encode_jpeg(probe_crop(frame, dets[i].box)),
                    context_jpeg=context_jpeg,
                    captured_at=iso(captured_at),
                    key=f"{self.camera_id}/{tr.track_id}/{top.entry_id}/{iso(captured_at)}",
                )
                alert_id = self._write_or_hold(record, tr, top.entry_id, now)
                tr.alerted_entries.add(top.entry_id)
                tr.best_alert_quality = q.score
                if alert_id is not None:
                    tr.alert_ids[top.entry_id] = alert_id
                    self._recent[top.entry_id] = (alert_id, now)
                    alert_ids.append(alert_id)
                else:
                    self._recent[top.entry_id] = (-1, now)
            del embeddings, results
        self.stats.analysed += len(crops)
        self.stats.gated += gated
        # Tracks matched on an earlier frame keep their mark while they stay in view, unless an
        # operator judged them a different person.
        faces = []
        for i, (det, tr) in enumerate(zip(dets, tracks, strict=False)):
            name, score = matches.get(i, (None, None))
            live_entries = {e for e in tr.matched_entries if (tr.track_id, e) not in self.suppressed}
            rejected = bool(tr.alerted_entries) and not live_entries
            matched = i in matches or bool(live_entries)
            if matched and name is None and live_entries:
                name = self.subject_names.get(next(iter(live_entries)))
            faces.append(FaceOverlay(tuple(float(v) for v in det.box), tr.track_id, tr.passed_gate,
                                     matched, name, score, rejected))
        del crops
        return FrameResult(frame_index, captured_at, faces, alert_ids, len(to_embed), gated,
                           time.perf_counter() - started, tuple(tracks[i].track_id for i in to_embed))
