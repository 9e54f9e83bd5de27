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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from console.clock import wall
from console.domain import AlertRecord
from console.pipeline import schedule
from console.pipeline.alerting import OUTBOX_MAX, OUTBOX_RETRY_S, AlertWriting, _PendingAlert
from console.pipeline.cadence import CARRY_S, EMPTY_INTERVAL_S, DetectionCadence
from console.pipeline.evidence import EVIDENCE_VIEWS, SINGLE_VIEW_MARGIN, EntryEvidence, ViewScore, decide
from console.pipeline.gallery import Gallery
from console.pipeline.results import FaceOverlay, FrameResult, ScoreStats
from console.pipeline.tracker import IouTracker
from console.vision.bystanders import BystanderBlur
from console.vision.engine import FaceEngine
from console.vision.quality import QualityGate, cut_off

__all__ = ["OUTBOX_MAX", "OUTBOX_RETRY_S", "CameraRecognizer", "FaceOverlay", "FrameResult", "RecognizerSettings",
           "ScoreStats", "_PendingAlert"]

log = logging.getLogger(__name__)


@dataclass
class RecognizerSettings:
    threshold: float
    top_k: int = 3
    embed_interval_s: float = 0.25
    # A track is embedded again at least this often even without a better view when it may have
    # swapped identities (it came near another face or was missed on a frame: Track.disturbed): a
    # swapped track must not hide a face for long. A face tracked alone, frame after frame, cannot swap.
    # Half the 1 s in which a face is to be searched (docs/performance.md): at 1 s, a face that took
    # over a track searched just before on someone else waited the whole second and more.
    refresh_s: float = 0.5
    realert_window_s: float = 120.0
    gate: QualityGate = field(default_factory=QualityGate)
    # The track decides (console/pipeline/evidence.py): the weighted mean of its best views against
    # the threshold plus their margins; one view alone must clear single_view_margin more.
    evidence_views: int = EVIDENCE_VIEWS
    single_view_margin: float = SINGLE_VIEW_MARGIN
    # A track whose evidence, or best view, falls short by less than this is searched again at
    # embed_interval_s; so is a new view: better by improve_step, or turned or nearer
    # (console/pipeline/schedule.py).
    pending_window: float = 0.05
    improve_step: float = 0.02
    # A track not due for an embedding is neither aligned nor quality-scored; one that is due is
    # scored at most this often (its view may improve on any frame, but a tenth of a second is enough).
    assess_interval_s: float = 0.1
    # An empty view is detected at least this often (and at once on motion); 0: every frame.
    detect_empty_every_s: float = EMPTY_INTERVAL_S
    # With every face in view tracked and steady, frames less than this after a full detector pass
    # carry the tracked boxes instead (console/pipeline/cadence.py); 0: every frame is detected.
    carry_s: float = CARRY_S
    # The exhaustive pass (bench recall, audits of the schedule): every face that passes the gate is
    # embedded on every frame, and every frame is detected; the schedule above is then not used.
    every_view: bool = False


class CameraRecognizer(AlertWriting):
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
        alert_writer_factory=None,
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
        self.cadence = DetectionCadence(settings.detect_empty_every_s, self.tracker.max_age_s, settings.carry_s)
        self.stats = ScoreStats()
        self._recent: dict[int, tuple[int, float]] = {}  # entry_id -> (alert_id, when)
        # (track id, entry id) judged "different person"; loaded from the store at start, then kept up
        # to date by the deployment's change feed (a decision on any seat reaches every camera).
        self.suppressed: set[tuple[int, int]] = set(suppressed or ())
        self._init_alerts(alert_writer_factory)  # console/pipeline/alerting.py

    def suppress(self, track_id: int, entry_id: int) -> None:
        """No further alert (nor match mark) for this track and subject. Thread-safe (one set.add)."""
        self.suppressed.add((track_id, entry_id))

    def _may_alert(self, entry_id: int, now: float) -> bool:
        recent = self._recent.get(entry_id)
        if recent is None:
            return True
        alert_id, when = recent
        return now - when > self.settings.realert_window_s or (alert_id >= 0 and self.is_decided(alert_id))

    def _overlay(self, tr, box, matches: dict[int, tuple[str | None, float]], i: int | None) -> FaceOverlay:
        """A track's overlay: matched on this frame, or on an earlier one and not judged a different person."""
        name, score = matches.get(i, (None, None)) if i is not None else (None, None)
        live_entries = {e for e in tr.matched_entries if (tr.track_id, e) not in self.suppressed}
        rejected = bool(tr.alerted_entries) and not live_entries
        matched = (i is not None and i in matches) or bool(live_entries)
        if matched and name is None and live_entries:
            name = self.subject_names.get(next(iter(live_entries)))
        return FaceOverlay(tuple(float(v) for v in box), tr.track_id, tr.passed_gate, matched, name, score, rejected)

    def _wants_search(self, tr, q, since: float) -> bool:
        """Whether a view past the gate is searched now (console/pipeline/schedule.py)."""
        s = self.settings
        if s.every_view or tr.best_quality < 0:
            return True
        if since >= s.refresh_s and tr.disturbed:
            return True
        if since < s.embed_interval_s:
            return False
        return (tr.pending or tr.cut_off or q.score > tr.best_quality + s.improve_step
                or schedule.new_view(tr.searched_views, q.yaw, q.pitch, q.face_px))

    def _carried(self, frame: np.ndarray, captured_at: float, frame_index: int, started: float) -> FrameResult:
        """A frame between full passes: every tracked box moved by its track's motion; nothing searched."""
        h, w = frame.shape[:2]
        faces = []
        for tr in self.tracker.tracks:
            if tr.last_seen != self.cadence.last_full_at:
                continue  # missed on the last pass: not drawn where it is not known to be
            box = tr.predicted(captured_at)
            box = np.array([min(max(box[0], 0), w), min(max(box[1], 0), h), min(max(box[2], 0), w),
                            min(max(box[3], 0), h)], np.float32)
            faces.append(self._overlay(tr, box, {}, None))
        return FrameResult(frame_index, captured_at, faces, [], 0, 0, time.perf_counter() - started,
                           detected=False, carried=True)

    def process(self, frame: np.ndarray, captured_at: float, frame_index: int = 0) -> FrameResult:
        started = time.perf_counter()
        s = self.settings
        if not s.every_view:
            if not self.cadence.due(frame, captured_at):
                return FrameResult(frame_index, captured_at, [], [], 0, 0, time.perf_counter() - started,
                                   detected=False)
            if self.cadence.carry(captured_at, self.tracker.tracks):
                return self._carried(frame, captured_at, frame_index, started)
        dets = self.engine.detect(frame)
        self.cadence.saw(captured_at, len(dets))
        tracks = self.tracker.update(np.array([d.box for d in dets]).reshape(-1, 4), captured_at)
        to_embed: list[int] = []
        crops: list[np.ndarray] = []
        qualities: dict[int, object] = {}
        gated = 0
        for i, (det, tr) in enumerate(zip(dets, tracks, strict=False)):
            since = captured_at - tr.last_embed_at
            tr.cut_off = tr.cut_off or cut_off(det.box, frame.shape)
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
            if self._wants_search(tr, q, since):
                to_embed.append(i)
                crops.append(crop)
        matches: dict[int, tuple[str | None, float]] = {}
        alert_ids: list[int] = []
        if crops:
            embeddings = self.engine.embed(crops)
            results = self.gallery.search(embeddings, k=s.top_k)
            for i, cands in zip(to_embed, results, strict=False):
                tr = tracks[i]
                q = qualities[i]
                tr.best_quality = max(tr.best_quality, q.score)
                tr.last_embed_at, tr.disturbed, tr.cut_off = captured_at, False, False
                schedule.remember(tr.searched_views, q.yaw, q.pitch, q.face_px)
                best = cands[0].score if cands else -1.0
                self.stats.best_scores.append(best)
                if not cands:
                    continue
                for c in cands:
                    tr.evidence.setdefault(c.entry_id, EntryEvidence()).add(ViewScore(c.score, q.margin, q.score),
                                                                            s.evidence_views)
                top = cands[0]
                if (tr.track_id, top.entry_id) in self.suppressed:
                    tr.pending = False
                    continue
                evidence = tr.evidence[top.entry_id]
                verdict = decide(evidence, ViewScore(best, q.margin, q.score), s.threshold,
                                 k=s.evidence_views, single_view_margin=s.single_view_margin)
                # Near the bar: the track's evidence, or its best view against its own margin.
                tr.pending = not verdict.alert and (verdict.track_score >= verdict.needed - s.pending_window
                                                    or evidence.best[0].adjusted >= s.threshold - s.pending_window)
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
                alert_id = self._raise(frame, dets, i, tr, cands, q, verdict, captured_at, now)
                if alert_id is not None:
                    alert_ids.append(alert_id)
            del embeddings, results
        self.stats.analysed += len(crops)
        self.stats.gated += gated
        faces = [self._overlay(tr, det.box, matches, i) for i, (det, tr) in enumerate(zip(dets, tracks, strict=False))]
        del crops
        return FrameResult(frame_index, captured_at, faces, alert_ids, len(to_embed), gated,
                           time.perf_counter() - started, tuple(tracks[i].track_id for i in to_embed))
