"""Tests that kill the mutants ``python main.py bench mutation --module alerting`` found alive in the
alert stored before its context frame (console/pipeline/alerting.py, issue 31): what waits for what,
what is counted, what is logged. The fakes are in recognizer_fakes.py and test_mutants_alerting.py."""

import logging
import threading

from console.errors import StoreError
from console.pipeline import alerting
from tests.unit.recognizer_fakes import LEFT, RIGHT, Face, make, see
from tests.unit.test_mutants_alerting import TWO, _Blur, _CountingStore, _messages, _Writer


def _with_writer(blur=None, writer=None):
    r, engine, store, _ = make(store=_CountingStore(), bystanders=blur or _Blur(), settings=TWO)
    w = writer or _Writer(store)
    r.alert_writer_factory = w.factory
    r.prepare_in_background()
    return r, engine, store, w


def test_a_frame_whose_bystanders_could_not_be_blurred_is_not_stored_after_its_alert():
    r, engine, store, _ = _with_writer(blur=_Blur(fail="the detector failed"))
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    assert r.drain_outbox(force=True) == [1]
    assert store.alerts[0].context_jpeg == b"" and store.contexts == {} and r.contexts_lost == 0


def test_each_frame_lost_after_its_alert_is_counted():
    class _NoFrames(_Writer):
        def factory(self):
            write, close, _ = super().factory()

            def attach(alert_id, jpeg):
                raise StoreError("disk full")
            return write, close, attach

    r, engine, store, _ = make(store=_CountingStore(), bystanders=_Blur(), settings=TWO)
    r.alert_writer_factory = _NoFrames(store).factory
    r.prepare_in_background()
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0)), Face(RIGHT, 0.8, (0, 0.9, 0))], 10.0)
    assert sorted(r.drain_outbox(force=True)) == [1, 2]
    assert r.contexts_lost == 2 and len(store.alerts) == 2


def test_while_the_writer_is_busy_the_camera_collects_nothing_and_goes_on():
    go = threading.Event()

    class _Slow(_Writer):
        def factory(self):
            write, close, attach = super().factory()

            def slow(record):
                assert go.wait(10)
                return write(record)
            return slow, close, attach

    r, engine, store, _ = make(store=_CountingStore(), bystanders=_Blur(), settings=TWO)
    r.alert_writer_factory = _Slow(store).factory
    r.prepare_in_background()
    see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
    try:
        assert r.drain_outbox() == [] and len(r.preparing) == 1  # not stored yet: nothing to announce
    finally:
        go.set()
    assert r.drain_outbox(force=True) == [1] and list(store.contexts) == [1]


def test_a_frame_that_could_not_be_made_is_logged_and_its_alert_written_as_raised(caplog, monkeypatch):
    r, engine, store, _ = make(bystanders=_Blur(), settings=TWO)  # made on the pool, written by the camera
    r.prepare_in_background()

    def broken(frame, box, boxes):
        raise MemoryError("no room for the frame")
    monkeypatch.setattr(r, "_context", broken)
    with caplog.at_level(logging.WARNING, logger=alerting.__name__):
        see(r, engine, [Face(LEFT, 0.8, (0.9, 0, 0))], 10.0)
        assert r.drain_outbox(force=True) == [1]
    (record,) = store.alerts
    assert record.context_jpeg == b"" and record.track_id == 1 and record.probe_jpeg[:2] == b"\xff\xd8"
    assert "camera 3: the alert's context frame was not kept (no room for the frame)" in _messages(caplog)
