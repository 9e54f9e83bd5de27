"""Tests that kill the mutants ``python main.py bench mutation --module alerting`` found alive: the
alert's making and writing off the camera's thread (console/pipeline/alerting.py). The fakes are in
recognizer_fakes.py; the slow-blur tests of the same module are in test_schedule.py."""

import logging
import time

import numpy as np

from console.errors import StoreError
from console.pipeline import alerting
from console.pipeline import recognizer as rec
from tests.unit.recognizer_fakes import LEFT, RIGHT, Face, Store, make, see

TWO = rec.RecognizerSettings(threshold=0.5)


class _Blur:
    """Halves the frame; remembers the boxes it was given; can fail."""

    def __init__(self, fail: str = "") -> None:
        self.fail, self.calls = fail, []

    def blur(self, image, keep, known):
        self.calls.append((np.array(keep), [np.array(b) for b in known]))
        if self.fail:
            raise RuntimeError(self.fail)
        return image // 2, 0


class _Writer:
    """A pool writer on a store connection of its own: counts its tries; can be down or refuse."""

    def __init__(self, store) -> None:
        self.store, self.tries, self.closed = store, 0, 0
        self.close_fails = ""

    def factory(self):
        def write(record):
            self.tries += 1
            return self.store.write_alert(record)

        def close():
            self.closed += 1
            if self.close_fails:
                raise StoreError(self.close_fails)
        return write, close, self.store.attach_context


class _CountingStore(Store):
    """The fake store, counting every write tried on it (by the pool's writer or the camera)."""

    def __init__(self) -> None:
        super().__init__()
        self.tries = 0

    def write_alert(self, record) -> int:
        self.tries += 1
        return super().write_alert(record)


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def _settle(r, timeout=10.0) -> None:
    """Until every alert handed to the pool is made (and written, where the pool writes)."""
    deadline = time.monotonic() + timeout
    while (not all(f is None or f.done() for first, made, _ in r.preparing for f in (first, made))
           and time.monotonic() < deadline):
        time.sleep(0.005)


def _background(writer=True, blur=None, settings=TWO, **kw):
    r, engine, store, t = make(store=_CountingStore(), bystanders=blur or _Blur(), settings=settings, **kw)
    w = _Writer(store)
    if writer:
        r.alert_writer_factory = w.factory
    r.prepare_in_background()
    return r, engine, store, w


def test_two_alerts_the_pool_wrote_are_both_collected_at_the_next_turn():
    """Two alerts of one frame are made on the pool's two threads at once, so either may reach the
    store first (the clean-clone CI saw 2 before 1): each track keeps the id its own alert got."""
    r, engine, store, w = _background()
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.0)
    _settle(r)
    collected = r.drain_outbox()
    assert sorted(collected) == [1, 2] and not r.preparing and w.tries == 2
    by_track = {a.track_id: (n + 1, a) for n, a in enumerate(store.alerts)}  # the records as written
    assert sorted(by_track) == [1, 2] and collected == [by_track[1][0], by_track[2][0]]  # in the order raised
    assert all(a.context_jpeg == b"" for a in store.alerts)  # stored first; each frame after its alert
    assert r.drain_outbox(force=True) == [] and not r.attaching
    assert sorted(store.contexts) == [1, 2] and all(j[:2] == b"\xff\xd8" for j in store.contexts.values())
    for track, entry in ((1, 11), (2, 12)):
        alert_id, record = by_track[track]
        assert record.key == f"3/{track}/{entry}/{alerting.iso(10.0)}" and "probe_box" in record.quality
        assert r._recent[entry] == (alert_id, 1000.0)  # the recogniser's clock
        assert next(tr for tr in r.tracker.tracks if tr.track_id == track).alert_ids == {entry: alert_id}


def test_an_alert_the_pool_was_refused_is_counted_once_and_the_next_still_collected():
    r, engine, store, w = _background()
    store.refuse = "the deployment was ended"
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.0)
    _settle(r)
    assert r.drain_outbox() == [] and not r.preparing and not r.outbox
    assert r.refused == 2 and r.refusal == "the deployment was ended"
    assert w.tries == 2 and store.tries == 2  # not tried again on the camera's thread: refused for good


def test_alerts_the_pool_could_not_write_wait_without_a_retry_before_two_seconds():
    r, engine, store, w = _background()
    store.down = "database is locked"
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.0)
    _settle(r)
    before = time.monotonic()
    assert r.drain_outbox() == [] and not r.preparing and len(r.outbox) == 2
    assert r.store_problem == "database is locked" and store.tries == 2  # not retried at once by the camera
    assert before + 1.5 < r._next_retry <= time.monotonic() + alerting.OUTBOX_RETRY_S
    store.down = ""
    assert r.drain_outbox(force=True) == [1, 2] and r.tracker.tracks[0].alert_ids == {11: 1}


def test_when_the_pool_cannot_open_its_writer_the_camera_writes_the_alert_with_its_frame(caplog):
    r, engine, store, _ = _background(writer=False)
    r.alert_writer_factory = lambda: (_ for _ in ()).throw(RuntimeError("no second connection"))
    with caplog.at_level(logging.WARNING, logger=alerting.__name__):
        see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
        assert r.drain_outbox(force=True) == [1]
    (record,) = store.alerts
    assert record.context_jpeg[:2] == b"\xff\xd8" and record.track_id == 1 and record.probe_jpeg[:2] == b"\xff\xd8"
    assert not store.contexts
    assert "camera 3: the alert writer failed (no second connection); the camera writes the alert" in _messages(caplog)
    assert r.tracker.tracks[0].alert_ids == {11: 1} and r._recent[11] == (1, 1000.0)


def test_a_prepared_alert_held_by_the_camera_keeps_its_person_and_time_for_when_it_is_written():
    r, engine, store, _ = _background(writer=False)  # made on the pool, written by the camera
    store.down = "disk full"
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    assert r.drain_outbox(force=True) == [] and len(r.outbox) == 1
    store.down = ""
    assert r.drain_outbox(force=True) == [1]
    assert r.tracker.tracks[0].alert_ids == {11: 1} and r._recent[11] == (1, 1000.0)


def test_refusals_are_counted_one_by_one_and_a_new_recogniser_has_none():
    r, engine, store, _ = make(settings=TWO)
    assert (r.refused, r.refusal, r.store_problem, r.outbox_dropped) == (0, "", "", 0)
    store.refuse = "the deployment is stopped"
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.0)
    assert r.refused == 2


def test_without_context_frames_nothing_goes_to_the_pool_and_no_frame_is_stored():
    r, engine, store, _ = make(keep_context=False)
    r.prepare_in_background()
    assert r.preparing is None
    assert see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0).alert_ids == [1]  # written at once
    assert store.alerts[0].context_jpeg == b""


def test_a_wide_frame_is_blurred_with_every_box_scaled_to_the_stored_width():
    blur = _Blur()
    r, engine, store, _ = make(bystanders=blur, settings=TWO)
    wide = np.zeros((1440, 2560, 3), np.uint8)
    a, b = (100, 100, 300, 340), (1000, 200, 1200, 440)
    see(r, engine, [Face(a, 0.8, (0.9, 0, 0)), Face(b, 0.8, (0, 0, 0))], 10.0, frame=wide)
    (keep, known), = blur.calls
    assert np.allclose(keep, np.array(a) * 0.5)
    assert [k.tolist() for k in known] == [(np.array(a) * 0.5).tolist(), (np.array(b) * 0.5).tolist()]


def test_a_failed_blur_is_logged_with_the_camera_and_the_reason(caplog):
    r, engine, store, _ = make(bystanders=_Blur(fail="the detector failed"))
    with caplog.at_level(logging.WARNING, logger=alerting.__name__):
        see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    assert store.alerts[0].context_jpeg == b""
    assert ("camera 3: the alert's context frame was not kept: bystanders' faces could not be blurred"
            " (the detector failed)") in _messages(caplog)


def test_a_writer_that_fails_to_close_is_logged_and_closed_once(caplog):
    r, engine, store, w = _background()
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    _settle(r)
    w.close_fails = "server closed the connection"
    with caplog.at_level(logging.DEBUG, logger=alerting.__name__):
        r.close_alert_writer()
        r.close_alert_writer()
    assert w.closed == 1
    assert ("camera 3: the alert writer's connection did not close cleanly: server closed the connection"
            in _messages(caplog))


def test_the_pool_works_on_a_copy_of_the_box_the_camera_may_reuse():
    seen = []
    box = np.array([1.0, 2.0, 3.0, 4.0])
    started = alerting.context_pool().submit(time.sleep, 0.05)  # the pool is busy: the job runs later
    job = alerting.prepare(lambda frame, b, boxes: seen.append(b.tolist()), np.zeros((2, 2, 3), np.uint8), box, [box])
    box[:] = 0  # the camera's next frame overwrites its array
    started.result(timeout=5)
    job.result(timeout=5)
    assert seen == [[1.0, 2.0, 3.0, 4.0]]


def test_a_turned_view_searched_again_is_not_kept_unless_it_is_better_by_the_step():
    r, engine, store, _ = make(max_views=3)
    see(r, engine, [Face(LEFT, 0.5, (0.9, 0, 0))], 10.0)
    see(r, engine, [Face(LEFT, 0.51, (0.9, 0, 0), yaw=25.0)], 10.5)  # a new view: searched, not better by 0.03
    assert r.tracker.tracks[0].searched_views[-1][0] == 25.0 and store.views == []
    see(r, engine, [Face(LEFT, 0.54, (0.9, 0, 0), yaw=50.0)], 11.0)
    assert [v[3]["score"] for v in store.views] == [0.54]
