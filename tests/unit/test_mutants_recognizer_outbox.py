"""Tests that kill the recognizer's mutants (continued): the outbox that holds alerts while the store is
down, the further views of an alerted track, the probe crop, the context frame, the JPEG quality, UTC stamps
and the score counters. The fakes are in recognizer_fakes.py."""


import time

import cv2
import numpy as np
import pytest

from console.errors import AlertRefused
from console.pipeline import alerting, frames
from console.pipeline import recognizer as rec
from tests.unit.recognizer_fakes import (
    ALICE,
    BOB,
    CAROL,
    LEFT,
    MIDDLE,
    RIGHT,
    Face,
    Store,
    make,
    see,
)


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
    monkeypatch.setattr(alerting, "OUTBOX_MAX", 2)
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
    wide = frames.probe_crop(frame, np.array([100, 50, 160, 90]))  # 60 x 40: the side is 1.6 x 60 = 96
    assert np.array_equal(wide, frame[22:118, 82:178])
    corner = frames.probe_crop(frame, np.array([0, 0, 20, 30]))  # side 48 around (10, 15)
    assert np.array_equal(corner, frame[0:39, 0:34])
    far = frames.probe_crop(frame, np.array([280, 180, 300, 200]))  # side 32 around (290, 190)
    assert np.array_equal(far, frame[174:200, 274:300])


def test_the_context_frame_is_shrunk_to_1280_wide_and_a_smaller_one_kept_as_it_is():
    rng = np.random.default_rng(1)
    big = rng.integers(0, 255, (1080, 1920, 3), np.uint8)
    small_big, scale = frames.context_frame(big)
    assert scale == pytest.approx(2 / 3) and small_big.shape == (720, 1280, 3)
    assert np.array_equal(small_big, cv2.resize(big, (1280, 720), interpolation=cv2.INTER_AREA))
    small = rng.integers(0, 255, (480, 640, 3), np.uint8)
    same, scale = frames.context_frame(small)
    assert scale == 1.0 and same.shape == (480, 640, 3) and np.array_equal(same, small)


def test_the_jpeg_quality_is_90_unless_asked(monkeypatch):
    image = np.random.default_rng(2).integers(0, 255, (32, 32, 3), np.uint8)
    assert frames.encode_jpeg(image) == cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_a_frame_that_cannot_be_encoded_says_so(monkeypatch):
    monkeypatch.setattr(cv2, "imencode", lambda *a: (False, None))
    with pytest.raises(ValueError) as failed:
        frames.encode_jpeg(np.zeros((4, 4, 3), np.uint8))
    assert str(failed.value) == "JPEG encoding failed"


def test_stamps_are_utc_whatever_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert frames.iso(1767261600.25) == "2026-01-01T10:00:00.250000Z"
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
