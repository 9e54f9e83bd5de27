"""Decisions per track, not per frame: a track's views against an entry build up its evidence,
weighted by quality; a poorer view must score higher (its margin); one lucky frame is not enough,
several modest views are."""

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from console.pipeline import recognizer as rec
from console.pipeline.evidence import SINGLE_VIEW_MARGIN, EntryEvidence, ViewScore, decide
from console.pipeline.gallery import Gallery
from console.vision.types import Detection, Quality

T = 0.55  # a threshold of the calibrated kind (about 500 entries)


def track(*views: tuple[float, float, float], t: float = T) -> list:
    """Feed (score, margin, weight) views one by one; the verdict after each."""
    ev, out = EntryEvidence(), []
    for score, margin, weight in views:
        v = ViewScore(score, margin, weight)
        ev.add(v)
        out.append(decide(ev, v, t))
    return out


def test_a_single_view_above_the_threshold_but_with_a_large_margin_does_not_alert():
    (v,) = track((0.60, 0.08, 0.4))  # a small, blurred view: 0.60 is above 0.55 but not above 0.55 + 0.08 + 0.02
    assert not v.alert and v.needed == pytest.approx(T + 0.08 + SINGLE_VIEW_MARGIN)
    (v,) = track((0.60, 0.0, 0.9))  # the same score from a good view is a strong view
    assert v.alert and v.strong_view


def test_three_modest_views_of_the_same_subject_alert_where_none_alone_would():
    verdicts = track((0.555, 0.0, 0.9), (0.556, 0.0, 0.9), (0.557, 0.0, 0.9))
    assert [v.alert for v in verdicts] == [False, False, True]
    assert verdicts[-1].views == 3 and verdicts[-1].needed == pytest.approx(T)
    assert verdicts[-1].track_score == pytest.approx(0.556)
    # with a margin each, the same scores are not enough
    assert not any(v.alert for v in track((0.555, 0.02, 0.5), (0.556, 0.02, 0.5), (0.557, 0.02, 0.5)))


def test_one_lucky_frame_among_weak_views_does_not_alert_but_one_strong_view_does():
    lucky = track((0.40, 0.0, 0.9), (0.42, 0.0, 0.9), (0.565, 0.0, 0.9), (0.41, 0.0, 0.9))
    assert not any(v.alert for v in lucky)  # the old rule (one view >= 0.55) alerted on the third
    strong = track((0.40, 0.0, 0.9), (0.42, 0.0, 0.9), (0.58, 0.0, 0.9))
    assert [v.alert for v in strong] == [False, False, True] and strong[-1].strong_view


def test_two_views_need_half_the_single_view_margin():
    half = T + SINGLE_VIEW_MARGIN / 2
    assert track((0.40, 0.0, 0.9), (half + 0.2, 0.0, 0.9))[-1].alert is True  # strong alone
    assert track((half, 0.0, 0.9), (half, 0.0, 0.9))[-1].alert is True
    assert track((half - 0.001, 0.0, 0.9), (half - 0.001, 0.0, 0.9))[-1].alert is False


def test_views_are_weighted_by_quality():
    # Two good views just above the threshold and one poor view far below: the poor view weighs little.
    good_first = track((0.57, 0.0, 1.0), (0.565, 0.0, 1.0), (0.45, 0.0, 0.1))[-1]
    assert good_first.alert and good_first.track_score == pytest.approx((0.57 + 0.565 + 0.045) / 2.1)
    equal = track((0.57, 0.0, 1.0), (0.565, 0.0, 1.0), (0.45, 0.0, 1.0))[-1]
    assert not equal.alert


def test_views_exactly_at_the_threshold_average_to_exactly_the_threshold():
    t = 0.1 + 0.2  # not exact in binary: a naive weighted mean can drift by one unit
    verdicts = track(*[(t, 0.0, w) for w in (0.93, 0.71, 0.88)], t=t)
    assert verdicts[-1].track_score == t and verdicts[-1].alert


def test_only_the_best_views_are_kept_and_all_are_counted():
    ev = EntryEvidence()
    rng = np.random.default_rng(1)
    for s in rng.uniform(0.1, 0.5, 200):
        ev.add(ViewScore(float(s), 0.0, 0.8))
    assert len(ev.best) == 3 and ev.views == 200
    assert [v.score for v in ev.best] == sorted([v.score for v in ev.best], reverse=True)


# -- in the recogniser -----------------------------------------------------------------------------
ALICE, BOB = 11, 12


@dataclass
class Face:
    box: tuple
    scores: tuple  # against Alice, Bob
    margin: float = 0.0
    quality: float = 0.8
    passed: bool = True


class FakeEngine:
    model_id = "fake"

    def __init__(self):
        self.faces: list[Face] = []

    def detect(self, frame):
        return [Detection(np.array(f.box, np.float32), np.zeros((5, 2), np.float32), 0.9) for f in self.faces]

    def align(self, frame, det):
        return np.full((4, 4, 3), next(i for i, f in enumerate(self.faces) if np.allclose(f.box, det.box)), np.uint8)

    def assess(self, det, crop, gate, frame_shape):
        f = self.faces[int(crop[0, 0, 0])]
        return Quality(f.quality, 20.0, 30.0, 0.0, 0.0, 0.0, 0.9, f.passed, margin=f.margin)

    def embed(self, crops):
        out = np.zeros((len(crops), 4), np.float32)
        for row, crop in enumerate(crops):
            out[row, :2] = self.faces[int(crop[0, 0, 0])].scores
        return out


BOX = (40, 40, 100, 120)


def run(views, threshold=T, step=1.0, **kw):
    """One face in one place, seen once per ``step`` seconds with the given Face fields."""
    engine, alerts = FakeEngine(), []
    r = rec.CameraRecognizer(engine, Gallery(np.eye(2, 4, dtype=np.float32), np.array([1, 2]), np.array([ALICE, BOB])),
                             deployment_id=1, camera_id=1, settings=rec.RecognizerSettings(threshold=threshold, **kw),
                             write_alert=lambda a: alerts.append(a) or len(alerts), subject_names={ALICE: "Alice"})
    results = []
    for n, face in enumerate(views):
        engine.faces = [face]
        results.append(r.process(np.zeros((240, 320, 3), np.uint8), 10.0 + n * step, n))
    return r, alerts, results


def test_a_poorer_view_must_score_its_margin_higher_in_the_recogniser():
    _, alerts, _ = run([Face(BOX, (0.60, 0.1), margin=0.1)] * 5)
    assert alerts == []  # 0.60 each time: above 0.55, below 0.55 + 0.1
    _, alerts, _ = run([Face(BOX, (0.60, 0.1), margin=0.0)] * 5)
    assert len(alerts) == 1 and alerts[0].candidates[0][0] == ALICE


def test_the_alert_record_says_how_the_track_decided():
    _, alerts, results = run([Face(BOX, (0.556, 0.2), quality=0.9)] * 4)
    (a,) = alerts
    q = a.quality
    assert (q["views"], q["strong_view"], q["track_score"], q["needed"], q["margin"]) == (
        3, False, pytest.approx(0.556, abs=1e-4), pytest.approx(T), 0.0)
    assert a.candidates[0][2] == pytest.approx(0.556) and a.threshold == T  # from the view that triggered it
    assert [r.faces[0].matched for r in results] == [False, False, True, True]


def test_a_view_below_the_floor_is_not_searched_and_leaves_no_evidence():
    r, alerts, results = run([Face(BOX, (0.9, 0.0), passed=False)] * 3)
    assert alerts == [] and [x.embedded for x in results] == [0, 0, 0] and [x.gated for x in results] == [1, 1, 1]
    assert r.tracker.tracks[0].evidence == {}


def test_a_track_close_to_alerting_is_searched_again_at_the_embed_interval():
    views = [Face(BOX, (0.54, 0.0))] * 4  # 0.54 < 0.55: within 0.05 of what it needs
    _, _, results = run(views, step=0.25)
    assert [x.embedded for x in results] == [1, 1, 1, 1]
    far = [Face(BOX, (0.2, 0.0))] * 4  # far from any entry: only when its view improves or every second
    _, _, results = run(far, step=0.25)
    assert [x.embedded for x in results] == [1, 0, 0, 0]


def test_evidence_is_numbers_on_the_track_and_goes_with_it():
    r, _, _ = run([Face(BOX, (0.4, 0.3))] * 3)
    (tr,) = r.tracker.tracks
    assert set(tr.evidence) == {ALICE, BOB}
    for ev in tr.evidence.values():
        assert all(isinstance(x, float) for v in ev.best for x in (v.score, v.margin, v.weight))
    r.tracker.update(np.zeros((0, 4)), 100.0)  # long unseen: the tracker forgets it
    assert r.tracker.tracks == []


def test_a_real_face_under_the_floor_is_dropped_and_one_just_above_it_searched(engine, photos):
    image = photos("img21.jpg")  # 110 px between the eyes; 0.07 of it is under 8 px, 0.08 over
    enrol = engine.embed([engine.align(image, engine.detect(image)[0])])
    counts = []
    for fx in (0.07, 0.08):
        tiny = cv2.resize(image, None, fx=fx, fy=fx, interpolation=cv2.INTER_AREA)
        canvas = np.full((480, 640, 3), 120, np.uint8)
        canvas[200:200 + tiny.shape[0], 300:300 + tiny.shape[1]] = tiny
        r = rec.CameraRecognizer(engine, Gallery(enrol, np.array([1]), np.array([ALICE])), deployment_id=1,
                                 camera_id=1, settings=rec.RecognizerSettings(threshold=T), write_alert=lambda a: 1)
        result = r.process(canvas, 0.0, 0)
        counts.append((result.embedded, result.gated))
    assert counts == [(0, 1), (1, 0)]
