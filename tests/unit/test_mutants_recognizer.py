"""Tests that kill the mutants ``python main.py bench mutation --module recognizer`` found alive:
the alert decision of ``CameraRecognizer.process`` with a fake engine (the faces, their
quality and their embeddings are given, so each test runs in milliseconds), the outbox that
holds alerts while the store is down, the further views of an alerted track, the re-alert
window, and the small helpers (the probe crop, the context frame, the JPEG quality, UTC
stamps, the score counters).

The gallery is real: each watchlist entry is one basis vector, and a face's embedding lists
its score against each entry, so the scores are exactly the numbers written here."""


import cv2
import numpy as np
import pytest

from console.pipeline import recognizer as rec
from console.pipeline.gallery import Gallery
from console.vision.quality import QualityGate
from tests.unit.recognizer_fakes import (
    ALICE,
    BOB,
    CAROL,
    DIM,
    LEFT,
    MIDDLE,
    RIGHT,
    Face,
    make,
    see,
)


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
    # A frame on which the track is missed does the same once refresh_s (half a second) has passed.
    assert r.settings.refresh_s == 0.5
    see(r, engine, [], 12.1)
    assert 1 not in see(r, engine, [Face(LEFT, 0.1)], 12.3).embedded_tracks  # too soon since the refresh
    assert 1 in see(r, engine, [Face(LEFT, 0.1)], 12.5).embedded_tracks


def test_a_track_beside_a_face_that_went_unmatched_is_searched_again_though_nothing_is_near_it_now():
    """Two faces overlap at the frame's edge, one leaving, one entering. A track searched on the one
    frame can follow the other face on the next, alone and with no miss: the other face's track is
    the one missed. Being beside that track marks it as possibly swapped (the 8-feed bench once left
    such a face unsearched to the end of the run)."""
    near = (60, 20, 120, 100)
    for other_stays, searched_again in ((False, True), (True, False)):
        r, engine, _, _ = make()
        assert see(r, engine, [Face(LEFT, 0.5)], 10.0).embedded_tracks == (1,)
        assert see(r, engine, [Face(LEFT, 0.5), Face(near, 0.5)], 10.6).embedded_tracks == (1, 2)  # near: refreshed
        apart = (110, 20, 170, 100)  # the other face stepped away (the same track): nobody is near track 1
        step = see(r, engine, [Face(LEFT, 0.5)] + ([Face(apart, 0.5)] if other_stays else []), 10.7)
        assert [f.track_id for f in step.faces] == ([1, 2] if other_stays else [1])
        later = see(r, engine, [Face(LEFT, 0.5)] + ([Face(apart, 0.5)] if other_stays else []), 11.2)
        assert (1 in later.embedded_tracks) == searched_again, other_stays


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
