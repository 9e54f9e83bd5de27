"""Tests that kill the mutants ``python main.py bench mutation --module recognizer`` found alive:
the alert decision of ``CameraRecognizer.process`` with a fake engine (the faces, their
quality and their embeddings are given, so each test runs in milliseconds), the outbox that
holds alerts while the store is down, the further views of an alerted track, the re-alert
window, and the small helpers (the probe crop, the context frame, the JPEG quality, UTC
stamps, the score counters).

The gallery is real: each watchlist entry is one basis vector, and a face's embedding lists
its score against each entry, so the scores are exactly the numbers written here."""

import time
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from console.errors import AlertRefused, StoreError
from console.pipeline import recognizer as rec
from console.pipeline.gallery import Gallery
from console.vision.quality import QualityGate
from console.vision.types import Detection, Quality

DIM = 8
ALICE, BOB, CAROL = 11, 12, 13  # entry ids; images 101, 102, 103
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}


def gallery() -> Gallery:
    return Gallery(np.eye(3, DIM, dtype=np.float32), np.array([101, 102, 103]), np.array([ALICE, BOB, CAROL]))


@dataclass
class Face:
    box: tuple
    quality: float = 0.8
    scores: tuple = (0.0, 0.0, 0.0)  # against Alice, Bob, Carol
    detector_score: float = 0.9


class FakeEngine:
    """Detects the faces it is given for the frame; applies the gate's detector score and refuses a
    face that leaves the frame, as the real assessment does; embeds to the given scores."""

    model_id = "fake-model"

    def __init__(self) -> None:
        self.faces: list[Face] = []

    def detect(self, frame):
        return [Detection(np.array(f.box, np.float32), np.zeros((5, 2), np.float32), f.detector_score)
                for f in self.faces]

    def align(self, frame, det):
        i = next(n for n, f in enumerate(self.faces) if np.allclose(f.box, det.box))
        return np.full((4, 4, 3), i, np.uint8)

    def assess(self, det, crop, gate, frame_shape):
        face = self.faces[int(crop[0, 0, 0])]
        h, w = frame_shape[:2]
        x1, y1, x2, y2 = face.box
        passed = det.score >= gate.min_detector_score and x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h
        return Quality(face.quality, 50.0, 100.0, 0.0, 0.0, 0.0, det.score, passed)

    def embed(self, crops):
        out = np.zeros((len(crops), DIM), np.float32)
        for row, crop in enumerate(crops):
            out[row, :3] = self.faces[int(crop[0, 0, 0])].scores
        return out


class Store:
    """write_alert / write_view / is_decided, with a switch for a store that is down."""

    def __init__(self) -> None:
        self.alerts: list = []
        self.views: list = []
        self.decided: set[int] = set()
        self.down = ""  # the error message while down
        self.refuse = ""  # the refusal while the deployment is stopped

    def write_alert(self, record) -> int:
        if self.refuse:
            raise AlertRefused(self.refuse)
        if self.down:
            raise StoreError(self.down)
        self.alerts.append(record)
        return len(self.alerts)

    def write_view(self, alert_id, jpeg, score, quality, captured_at):
        if self.down:
            raise StoreError(self.down)
        self.views.append((alert_id, jpeg, score, quality, captured_at))


def make(store=None, *, threshold=0.5, clock=None, **kw):
    store = store or Store()
    engine = FakeEngine()
    t = {"now": 1000.0}
    kw.setdefault("write_view", store.write_view)
    r = rec.CameraRecognizer(engine, kw.pop("gallery") if "gallery" in kw else gallery(), deployment_id=7,
                             camera_id=3, settings=kw.pop("settings", None) or rec.RecognizerSettings(threshold=threshold),
                             write_alert=store.write_alert, is_decided=lambda a: a in store.decided,
                             subject_names=NAMES, clock=clock or (lambda: t["now"]), **kw)
    return r, engine, store, t


FRAME = np.zeros((240, 320, 3), np.uint8)
LEFT, RIGHT, MIDDLE = (20, 20, 80, 100), (200, 20, 260, 100), (110, 120, 170, 200)


def see(r, engine, faces, at, frame=FRAME, **kw):
    engine.faces = list(faces)
    return r.process(frame, at, **kw)


# -- the decision ------------------------------------------------------------------------------------------
def test_a_match_writes_one_alert_with_everything_the_reviewer_needs():
    frame = (np.arange(1440 * 2560 * 3) % 251).astype(np.uint8).reshape(1440, 2560, 3)
    box = (1000.86, 500.22, 1100.5, 640.3)
    r, engine, store, t = make(settings=rec.RecognizerSettings(threshold=0.5, top_k=2))
    result = see(r, engine, [Face(box, 0.77, (0.9, 0.6, 0.55))], 1767261600.25, frame=frame, frame_index=42)

    assert result.alert_ids == [1]
    (record,) = store.alerts
    assert (record.deployment_id, record.camera_id, record.track_id, record.threshold, record.model_id) == (
        7, 3, 1, 0.5, "fake-model")
    assert record.candidates == [(ALICE, 101, pytest.approx(0.9)), (BOB, 102, pytest.approx(0.6))]  # top_k = 2
    assert record.bbox == [500.4, 250.1, 550.2, 320.1]  # in the half-size context frame, to 0.1 px
    assert record.quality["score"] == 0.77 and record.quality["passed"] is True
    assert record.captured_at == "2026-01-01T10:00:00.250000Z"
    # the probe: a square 1.6 times the face's longer side around its centre, at JPEG quality 90
    x1, y1, x2, y2 = np.float32(box).astype(float)
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, 1.6 * max(x2 - x1, y2 - y1)
    crop = frame[int(cy - side / 2):int(cy + side / 2), int(cx - side / 2):int(cx + side / 2)]
    assert record.probe_jpeg == cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    # the context: the frame shrunk to 1280 px wide, at JPEG quality 85
    small = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA)
    assert record.context_jpeg == cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    assert result.frame_index == 42 and result.captured_at == 1767261600.25
    assert (result.embedded, result.gated, result.embedded_tracks) == (1, 0, (1,))
    assert 0 <= result.elapsed_s < 5
    assert result.faces == [rec.FaceOverlay(tuple(float(v) for v in np.float32(box)), 1, True, True, "Alice",
                                            pytest.approx(0.9), False)]


def test_the_frame_index_defaults_to_zero():
    r, engine, _, _ = make()
    assert see(r, engine, [], 5.0).frame_index == 0


def test_one_view_exactly_at_threshold_plus_single_view_margin_alerts_and_just_below_does_not():
    # One view is not enough at the threshold itself (console/pipeline/evidence.py): it must clear the
    # single-view margin too. 0.5 + 0.25 is exact in float32, so the edge is exact.
    r, engine, store, _ = make(settings=rec.RecognizerSettings(threshold=0.5, single_view_margin=0.25))
    below = float(np.nextafter(np.float32(0.75), np.float32(0)))
    result = see(r, engine, [Face(LEFT, scores=(below, 0, 0)), Face(RIGHT, scores=(0, 0.75, 0))], 10.0)
    assert [a.candidates[0][0] for a in store.alerts] == [BOB] and result.alert_ids == [1]
    assert [(f.matched, f.subject) for f in result.faces] == [(False, None), (True, "Bob")]
    assert store.alerts[0].quality["strong_view"] is True and store.alerts[0].quality["views"] == 1


def test_three_views_exactly_at_the_threshold_alert_on_the_third_and_just_below_never():
    r, engine, store, _ = make(threshold=0.5)
    below = float(np.nextafter(np.float32(0.5), np.float32(0)))
    faces = [Face(LEFT, scores=(below, 0, 0)), Face(RIGHT, scores=(0, 0.5, 0))]
    for n, at in enumerate((10.0, 11.0, 12.0, 13.0, 14.0)):  # a second apart: each view is searched
        result = see(r, engine, faces, at)
        assert len(store.alerts) == (0 if n < 2 else 1)
    assert [a.candidates[0][0] for a in store.alerts] == [BOB]
    assert store.alerts[0].quality["views"] == 3 and store.alerts[0].quality["track_score"] == 0.5
    assert [(f.matched, f.subject) for f in result.faces] == [(False, None), (True, "Bob")]


def test_faces_against_an_empty_watchlist_count_with_a_best_score_of_minus_one():
    r, engine, store, _ = make(gallery=Gallery.empty(DIM))
    result = see(r, engine, [Face(LEFT), Face(RIGHT)], 10.0)
    assert store.alerts == [] and result.alert_ids == []
    analysed, gated, best = r.stats.take()
    assert (analysed, gated, best.tolist()) == (2, 0, [-1.0, -1.0])
    assert [f.matched or f.rejected for f in result.faces] == [False, False]


def test_the_gate_of_the_settings_and_the_frame_size_decide_which_faces_are_compared():
    strict = rec.RecognizerSettings(threshold=0.5, gate=QualityGate(min_detector_score=0.95))
    r, engine, store, _ = make(settings=strict)
    faces = [Face(LEFT, scores=(0.9, 0, 0), detector_score=0.9),  # too weak for this gate
             Face((280, 200, 340, 260), scores=(0, 0.9, 0), detector_score=0.99),  # runs off the frame
             Face(MIDDLE, scores=(0, 0, 0.9), detector_score=0.99)]
    result = see(r, engine, faces, 10.0)
    assert [a.candidates[0][0] for a in store.alerts] == [CAROL]
    assert (result.gated, result.embedded) == (2, 1)
    assert [f.passed_gate for f in result.faces] == [False, False, True]
    see(r, engine, faces, 10.5)
    assert r.stats.take()[:2] == (1, 4)  # counts add up over frames


def test_each_face_of_a_frame_is_decided_even_after_one_that_raises_nothing():
    # the first face's track was judged "different person" for Alice; the next face is Bob
    r, engine, store, t = make(suppressed={(1, ALICE)})
    result = see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.8, 0))], 10.0)
    assert [a.candidates[0][0] for a in store.alerts] == [BOB]
    assert [(f.track_id, f.matched) for f in result.faces] == [(1, False), (2, True)]


def test_a_face_within_the_realert_window_does_not_stop_the_next_face_alerting():
    r, engine, store, t = make()
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    t["now"] += 30
    # a new track of Alice (within the window: no alert), then Bob
    see(r, engine, [Face(RIGHT, scores=(0.9, 0, 0)), Face(MIDDLE, scores=(0, 0.8, 0))], 20.0)
    assert [(a.track_id, a.candidates[0][0]) for a in store.alerts] == [(1, ALICE), (3, BOB)]


def test_an_alerted_track_seen_again_does_not_stop_the_next_face_alerting():
    r, engine, store, t = make()
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    see(r, engine, [Face(LEFT, 0.9, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.8, 0))], 10.5)
    assert [(a.track_id, a.candidates[0][0]) for a in store.alerts] == [(1, ALICE), (2, BOB)]


def test_the_realert_window_runs_from_the_alert_and_ends_after_120_seconds():
    r, engine, store, t = make()
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    t["now"] += 120.0
    see(r, engine, [Face(RIGHT, scores=(0.9, 0, 0))], 20.0)  # a new track, exactly 120 s later: still quiet
    assert len(store.alerts) == 1
    t["now"] += 0.5
    see(r, engine, [Face(MIDDLE, scores=(0.9, 0, 0))], 30.0)
    assert [a.track_id for a in store.alerts] == [1, 3]


def test_a_decided_alert_lets_a_new_track_of_that_person_alert_at_once_but_not_the_same_track():
    r, engine, store, t = make()
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    store.decided.add(1)
    t["now"] += 5
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 11.0)  # the same track, embedded again
    assert len(store.alerts) == 1
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0.9, 0, 0))], 11.5)
    assert [a.track_id for a in store.alerts] == [1, 2]


def test_an_undecided_alert_of_another_person_does_not_open_the_window():
    r, engine, store, t = make()
    see(r, engine, [Face(LEFT, scores=(0, 0.9, 0))], 10.0)  # Bob: alert 1
    see(r, engine, [Face(RIGHT, scores=(0.9, 0, 0))], 10.25)  # Alice: alert 2
    store.decided.add(1)  # Bob's is decided, Alice's is not
    t["now"] += 5
    see(r, engine, [Face(MIDDLE, scores=(0.9, 0, 0))], 10.5)
    assert [a.candidates[0][0] for a in store.alerts] == [BOB, ALICE]


def test_a_track_is_embedded_again_only_for_a_clearly_better_view_or_after_the_refresh():
    r, engine, _, _ = make()
    plan = [  # (time, quality, embedded?)
        (10.0, 0.5, True),  # first sight
        (10.125, 0.9, False),  # better, but only 0.125 s later
        (10.25, 0.5 + 0.02, False),  # 0.25 s later but not better by more than 0.02
        (10.5, 0.6, True),  # better and 0.5 s later
        (10.75, 0.7, True),  # better and exactly 0.25 s later
        (11.0, 0.7, False),  # 0.25 s later, no better
        (11.75, 0.1, False),  # 1 s since the last embedding, but tracked alone on every frame: it cannot have swapped
    ]
    got = [see(r, engine, [Face(LEFT, q)], at).embedded_tracks == (1,) for at, q, _ in plan]
    assert got == [want for _, _, want in plan]
    assert r.stats.take()[0] == 3
    # Another face comes close (people crossing): the track may have swapped, so it is embedded again.
    near = (60, 20, 120, 100)
    assert 1 in see(r, engine, [Face(LEFT, 0.1), Face(near, 0.1)], 11.9).embedded_tracks
    assert 1 not in see(r, engine, [Face(LEFT, 0.1)], 12.0).embedded_tracks  # the refresh is done
    # A frame on which the track is missed does the same once a second has passed.
    see(r, engine, [], 12.1)
    assert 1 not in see(r, engine, [Face(LEFT, 0.1)], 12.6).embedded_tracks  # too soon since the refresh
    assert 1 in see(r, engine, [Face(LEFT, 0.1)], 12.95).embedded_tracks


def test_a_track_that_now_matches_someone_else_is_shown_with_the_new_name():
    r, engine, _, t = make()
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face((60, 20, 120, 100))], 10.1)  # two people cross
    t["now"] += 1
    result = see(r, engine, [Face(LEFT, scores=(0, 0.9, 0))], 11.0)  # refreshed; the tracker swapped faces
    assert (result.faces[0].subject, result.faces[0].score) == ("Bob", pytest.approx(0.9))
    result = see(r, engine, [Face(LEFT, scores=(0, 0.9, 0))], 11.25)  # not embedded: keeps a mark
    assert (result.faces[0].matched, result.faces[0].score) == (True, None)


def test_faces_that_never_matched_are_not_shown_as_rejected():
    r, engine, _, _ = make()
    result = see(r, engine, [Face(LEFT, scores=(0.2, 0.1, 0))], 10.0)
    assert result.faces == [rec.FaceOverlay(tuple(float(v) for v in LEFT), 1, True, False, None, None, False)]


# -- the outbox ---------------------------------------------------------------------------------------------
def test_alerts_raised_while_the_store_is_down_wait_in_order_and_are_written_when_it_returns():
    store = Store()
    r, engine, store, t = make(store)
    store.down = "database is locked"
    first = see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    second = see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.8, 0))], 10.25)
    assert (first.alert_ids, second.alert_ids, len(r.outbox)) == ([], [], 2)
    assert r.store_problem == "database is locked"
    assert r.drain_outbox() == []  # retried at most every 2 s
    store.down = ""
    assert r.drain_outbox() == []  # still within the 2 s
    assert r.drain_outbox(force=True) == [1, 2]
    assert [(a.track_id, a.candidates[0][0]) for a in store.alerts] == [(1, ALICE), (2, BOB)]
    assert (len(r.outbox), r.store_problem) == (0, "")
    # the written alerts belong to their tracks: a better view goes to Alice's alert
    see(r, engine, [Face(LEFT, 0.95, scores=(0.9, 0, 0)), Face(RIGHT, 0.8, scores=(0, 0.8, 0))], 11.25)
    assert [v[0] for v in store.views] == [1]
    # and the re-alert window runs from when each was raised: a new track of Bob stays quiet
    t["now"] += 60
    see(r, engine, [Face(MIDDLE, scores=(0, 0.8, 0))], 11.5)
    assert len(store.alerts) == 2


def test_the_outbox_is_retried_every_two_seconds_not_more_often(monkeypatch):
    clock = {"t": 500.0}
    monkeypatch.setattr(time, "monotonic", lambda: clock["t"])
    r, engine, store, _ = make()
    tries = []

    def write(record):
        tries.append(clock["t"])
        return store.write_alert(record)

    r.write_alert = write
    store.down = "disk full"
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    clock["t"] += 1.5
    assert r.drain_outbox() == []
    clock["t"] += 0.5
    assert r.drain_outbox() == [] and r.store_problem == "disk full"  # tried at exactly 2 s: still full
    clock["t"] += 1.5
    store.down = ""
    assert r.drain_outbox() == []  # a failed retry waits 2 s again
    clock["t"] += 0.5
    assert r.drain_outbox() == [1]
    assert tries == [500.0, 502.0, 504.0]


def test_a_store_that_fails_again_while_draining_keeps_the_rest_waiting():
    r, engine, store, _ = make()
    store.down = "server gone"
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.8, 0))], 10.0)
    store.down = "server still gone"
    assert r.drain_outbox(force=True) == []
    assert (len(r.outbox), r.store_problem) == (2, "server still gone")


def test_an_alert_refused_for_good_is_counted_and_the_next_waiting_one_still_written():
    r, engine, store, t = make()
    store.down = "locked"
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.8, 0))], 10.25)
    store.down = ""
    calls = []

    def refuse_first(record):
        calls.append(record)
        if len(calls) == 1:
            raise AlertRefused("deployment stopped")
        return store.write_alert(record)

    r.write_alert = refuse_first
    assert r.drain_outbox(force=True) == [1]
    assert (r.refused, r.refusal, len(r.outbox)) == (1, "deployment stopped", 0)
    assert store.alerts[0].candidates[0][0] == BOB


def test_an_alert_refused_on_the_spot_is_counted_and_not_queued():
    r, engine, store, _ = make()
    store.refuse = "alert refused: its deployment is not active"
    result = see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    assert (result.alert_ids, len(r.outbox), r.refused) == ([], 0, 1)
    assert r.refusal == "alert refused: its deployment is not active"


def test_a_full_outbox_drops_its_oldest_alerts_and_counts_them(monkeypatch):
    monkeypatch.setattr(rec, "OUTBOX_MAX", 2)
    r, engine, store, t = make(settings=rec.RecognizerSettings(threshold=0.5, realert_window_s=0.0))
    store.down = "locked"
    faces = [Face(LEFT, scores=(0.9, 0, 0)), Face(RIGHT, scores=(0, 0.9, 0)), Face(MIDDLE, scores=(0, 0, 0.9))]
    see(r, engine, faces[:2], 10.0)
    assert (len(r.outbox), r.outbox_dropped) == (2, 0)
    see(r, engine, faces, 10.25)  # Carol: Alice's alert, the oldest, makes room
    assert (len(r.outbox), r.outbox_dropped) == (2, 1)
    t["now"] += 1
    see(r, engine, faces + [Face((0, 150, 50, 230), scores=(0.9, 0, 0))], 10.5)  # Alice on a new track: Bob's goes
    assert (len(r.outbox), r.outbox_dropped) == (2, 2)
    store.down = ""
    assert r.drain_outbox(force=True) == [1, 2]
    assert [(a.track_id, a.candidates[0][0]) for a in store.alerts] == [(3, CAROL), (4, ALICE)]


def test_while_an_alert_waits_a_new_track_of_that_person_stays_quiet_even_if_all_else_is_decided():
    r, engine, store, t = make()
    store.decided = type("All", (), {"__contains__": lambda self, _: True})()
    store.down = "locked"
    see(r, engine, [Face(LEFT, scores=(0.9, 0, 0))], 10.0)
    t["now"] += 10
    see(r, engine, [Face(RIGHT, scores=(0.9, 0, 0))], 10.25)
    assert len(r.outbox) == 1


# -- further views ------------------------------------------------------------------------------------------
def test_better_views_of_an_alerted_track_are_kept_up_to_the_limit():
    frame = (np.arange(240 * 320 * 3) % 253).astype(np.uint8).reshape(240, 320, 3)
    r, engine, store, t = make(max_views=2)
    see(r, engine, [Face(LEFT, 0.5, (0.9, 0, 0))], 10.0, frame=frame)
    plan = [(10.5, 0.52, False),  # not better by 0.03
            (11.0, 0.5 + 0.03, True),  # better by exactly 0.03
            (11.5, 0.54, False),  # not better than the kept view by 0.03
            (12.0, 0.7, True),
            (12.5, 0.9, False)]  # the limit of 2 is reached
    for at, q, _ in plan:
        see(r, engine, [Face(LEFT, q, (0.8, 0, 0))], at, frame=frame)
    assert len(store.views) == 2
    x1, y1, x2, y2 = LEFT
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, 1.6 * max(x2 - x1, y2 - y1)
    crop = frame[int(max(0, cy - side / 2)):int(cy + side / 2), int(max(0, cx - side / 2)):int(cx + side / 2)]
    jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    alert_id, view, score, quality, captured_at = store.views[0]
    assert (alert_id, view, score, quality["score"], captured_at) == (1, jpeg, pytest.approx(0.8), 0.53,
                                                                       "1970-01-01T00:00:11.000000Z")
    assert store.views[1][3]["score"] == 0.7


def test_a_view_that_cannot_be_written_is_reported_and_the_alert_stands():
    r, engine, store, _ = make()
    see(r, engine, [Face(LEFT, 0.5, (0.9, 0, 0))], 10.0)
    store.down = "disk full"
    see(r, engine, [Face(LEFT, 0.9, (0.9, 0, 0))], 10.5)
    assert (store.views, r.store_problem, len(store.alerts)) == ([], "disk full", 1)


def test_no_views_are_kept_without_a_view_writer_or_before_the_alert_is_written():
    r, engine, store, _ = make(write_view=None)
    see(r, engine, [Face(LEFT, 0.5, (0.9, 0, 0))], 10.0)
    see(r, engine, [Face(LEFT, 0.9, (0.9, 0, 0))], 10.5)  # no writer: nothing, and no error
    assert r.store_problem == ""
    r2, engine2, store2, _ = make()
    store2.down = "locked"
    see(r2, engine2, [Face(LEFT, 0.5, (0.9, 0, 0))], 10.0)
    store2.down = ""
    see(r2, engine2, [Face(LEFT, 0.9, (0.9, 0, 0))], 10.5)  # the alert still waits: no id to attach to
    assert store2.views == []


# -- helpers ------------------------------------------------------------------------------------------------
def test_the_probe_crop_is_a_square_around_the_face_clipped_to_the_frame():
    frame = (np.arange(200 * 300) % 256).astype(np.uint8).reshape(200, 300)
    wide = rec.probe_crop(frame, np.array([100, 50, 160, 90]))  # 60 x 40: the side is 1.6 x 60 = 96
    assert np.array_equal(wide, frame[22:118, 82:178])
    corner = rec.probe_crop(frame, np.array([0, 0, 20, 30]))  # side 48 around (10, 15)
    assert np.array_equal(corner, frame[0:39, 0:34])
    far = rec.probe_crop(frame, np.array([280, 180, 300, 200]))  # side 32 around (290, 190)
    assert np.array_equal(far, frame[174:200, 274:300])


def test_the_context_frame_is_shrunk_to_1280_wide_and_a_smaller_one_kept_as_it_is():
    rng = np.random.default_rng(1)
    big = rng.integers(0, 255, (1080, 1920, 3), np.uint8)
    small_big, scale = rec.context_frame(big)
    assert scale == pytest.approx(2 / 3) and small_big.shape == (720, 1280, 3)
    assert np.array_equal(small_big, cv2.resize(big, (1280, 720), interpolation=cv2.INTER_AREA))
    small = rng.integers(0, 255, (480, 640, 3), np.uint8)
    same, scale = rec.context_frame(small)
    assert scale == 1.0 and same.shape == (480, 640, 3) and np.array_equal(same, small)


def test_the_jpeg_quality_is_90_unless_asked(monkeypatch):
    image = np.random.default_rng(2).integers(0, 255, (32, 32, 3), np.uint8)
    assert rec.encode_jpeg(image) == cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_a_frame_that_cannot_be_encoded_says_so(monkeypatch):
    monkeypatch.setattr(cv2, "imencode", lambda *a: (False, None))
    with pytest.raises(ValueError) as failed:
        rec.encode_jpeg(np.zeros((4, 4, 3), np.uint8))
    assert str(failed.value) == "JPEG encoding failed"


def test_stamps_are_utc_whatever_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert rec.iso(1767261600.25) == "2026-01-01T10:00:00.250000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_score_counts_start_again_after_each_flush_and_unstored_ones_are_put_back_first():
    stats = rec.ScoreStats()
    stats.analysed, stats.gated, stats.best_scores = 4, 2, [0.3]
    analysed, gated, best = stats.take()
    assert (analysed, gated, best.tolist()) == (4, 2, [pytest.approx(0.3)])
    assert stats.take()[:2] == (0, 0)
    stats.analysed, stats.gated, stats.best_scores = 2, 1, [0.9]
    stats.put_back(3, 4, np.array([0.1, 0.2], np.float32))
    assert (stats.analysed, stats.gated) == (5, 5)
    assert stats.best_scores == [pytest.approx(0.1), pytest.approx(0.2), 0.9]
