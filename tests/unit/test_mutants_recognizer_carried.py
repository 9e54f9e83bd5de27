"""Tests that kill the recognizer's mutants from issue 31's changes (``bench mutation --module
recognizer``): frames the detector skips, frames whose boxes are carried, when a tracked face is
aligned and assessed again, and the track of a suppressed match. The fakes are in recognizer_fakes.py."""

import numpy as np

from console.pipeline import recognizer as rec
from tests.unit.recognizer_fakes import ALICE, LEFT, RIGHT, Face, FakeEngine, make, see


class _CountingEngine(FakeEngine):
    def __init__(self) -> None:
        super().__init__()
        self.assessed = 0

    def assess(self, det, crop, gate, frame_shape):
        self.assessed += 1
        return super().assess(det, crop, gate, frame_shape)


def _counting(**kw):
    r, _, store, t = make(**kw)
    engine = _CountingEngine()
    r.engine = engine
    r.cadence.carry_s = 0  # every due frame a full pass: this is about the per-face schedule
    return r, engine, store


def test_a_frame_the_detector_skips_says_so_and_keeps_its_number_and_time():
    r, engine, _, _ = make()
    see(r, engine, [], 10.0, frame_index=4)  # nobody: the next still frame within 0.2 s is skipped
    res = see(r, engine, [], 10.04, frame_index=5)
    assert (res.frame_index, res.captured_at, res.faces, res.alert_ids, res.embedded, res.gated) == (5, 10.04, [], [],
                                                                                                       0, 0)
    assert 0 <= res.elapsed_s < 1 and res.embedded_tracks == () and res.detected is False and res.carried is False


def test_a_carried_frame_draws_the_tracks_where_they_move_clipped_to_the_frame():
    r, engine, _, _ = make()
    see(r, engine, [Face((100, 100, 250, 250), 0.8)], 10.0, frame_index=0)
    see(r, engine, [Face((10, 10, 160, 160), 0.8)], 10.04, frame_index=1)  # 2,250 px/s up and to the left
    res = see(r, engine, [], 10.12, frame_index=3)
    assert res.carried is True and res.detected is False and (res.frame_index, res.captured_at) == (3, 10.12)
    assert (res.alert_ids, res.embedded, res.gated, res.embedded_tracks) == ([], 0, 0, ()) and res.elapsed_s >= 0
    (face,) = res.faces
    assert face.box == (0.0, 0.0, 70.0, 70.0)  # predicted at (-80, -80, 70, 70): past the frame's corner


def test_a_carried_frame_leaves_out_a_track_missed_on_the_last_full_pass_and_draws_the_rest():
    r, engine, _, _ = make()
    a, b = Face(LEFT, 0.8), Face(RIGHT, 0.8)
    see(r, engine, [a, b], 10.0)
    see(r, engine, [a, b], 10.04)
    see(r, engine, [b], 10.24)  # a full pass (0.2 s since the last): the left face is missed
    res = see(r, engine, [b], 10.28)
    right = next(tr.track_id for tr in r.tracker.tracks if tr.box[0] > 100)
    assert res.carried and [f.track_id for f in res.faces] == [right]


def test_a_tracked_face_is_assessed_again_only_when_due():
    """Searched: not aligned or assessed again for embed_interval_s (0.25 s); after that at most every
    assess_interval_s (0.1 s) until a view is worth a search."""
    r, engine, _ = _counting()
    counts = []
    for at in (10.0, 10.0625, 10.1875, 10.3125, 10.375, 10.4375):
        see(r, engine, [Face(LEFT, 0.8, (0.3, 0, 0))], at)
        counts.append(engine.assessed)
    assert counts == [1, 1, 1, 2, 2, 3]


def test_a_face_that_fails_the_gate_is_assessed_every_tenth_of_a_second_and_not_twice_at_one_instant():
    r, engine, _ = _counting()
    counts = []
    for at in (0.0, 0.05, 0.1, 0.1):
        res = see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0), detector_score=0.1)], at)
        counts.append(engine.assessed)
    assert counts == [1, 1, 2, 2] and res.gated == 0 and not res.alert_ids


def test_a_face_not_due_does_not_stop_the_next_face_of_the_frame_being_assessed():
    r, engine, store = _counting(settings=rec.RecognizerSettings(threshold=0.5))
    see(r, engine, [Face(LEFT, 0.8, (0.3, 0, 0))], 10.0)
    res = see(r, engine, [Face(LEFT, 0.8, (0.3, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.05)
    assert res.alert_ids == [1] and len(store.alerts) == 1 and engine.assessed == 2


def test_a_suppressed_track_is_not_searched_again_for_the_same_view():
    r, engine, _, _ = make()
    first = see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    track = first.faces[0].track_id
    r.suppress(track, ALICE)  # "a different person"
    assert see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0), yaw=30.0)], 10.3).embedded_tracks == (track,)  # a new view
    later = [see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0), yaw=30.0)], at).embedded for at in (10.6, 10.9, 11.2)]
    assert later == [0, 0, 0] and r.tracker.tracks[0].pending is False


def test_a_track_keeps_as_many_views_as_the_settings_say():
    r, engine, _, _ = make(settings=rec.RecognizerSettings(threshold=0.99, evidence_views=2))
    for n, at in enumerate((10.0, 10.3, 10.6, 10.9)):
        see(r, engine, [Face(LEFT, 0.5 + 0.1 * n, (0.3 + 0.1 * n, 0, 0))], at)  # better each time: searched
    kept = r.tracker.tracks[0].evidence[ALICE].best
    assert len(kept) == 2 and [round(v.score, 2) for v in kept] == [0.6, 0.5]
    assert np.isclose(r.tracker.tracks[0].best_quality, 0.8)
