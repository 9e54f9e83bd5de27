"""An alert's context frame is made below the cameras' search, and never left for ever
(console/pipeline/context_pool.py)."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from console.pipeline import context_pool as cp
from console.pipeline import worker as worker_mod

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities are read on Linux")


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


@linux
def test_the_context_pool_runs_at_the_lowest_priority_and_the_writer_at_the_process_own():
    own = _nice(threading.get_native_id())
    contexts, writer = cp.context_pool(), cp.writer_pool()
    assert contexts.native_ids and writer.native_ids
    assert all(_nice(tid) == cp.LOWEST for tid in contexts.native_ids)
    assert [_nice(tid) for tid in writer.native_ids] == [own]
    # ... and a camera's analysis sits between the two
    seen = []

    def camera():
        worker_mod._yield_to_others()
        seen.append(_nice(threading.get_native_id()))

    t = threading.Thread(target=camera)
    t.start()
    t.join()
    assert seen == [min(cp.LOWEST, own + worker_mod.ANALYSIS_NICENESS)]
    if own + worker_mod.ANALYSIS_NICENESS < cp.LOWEST:
        assert seen[0] < cp.LOWEST


def test_the_pool_is_overdue_while_a_job_waits_or_runs_past_its_due_time_and_not_after():
    pool = cp._ContextPool(1, "test-context", due_s=0.15)
    release = threading.Event()
    running = pool.submit(release.wait, 5)
    queued = pool.submit(lambda: "after")
    assert not pool.overdue()  # both just submitted
    time.sleep(0.25)
    assert pool.overdue()
    release.set()
    assert running.result(2) is True and queued.result(2) == "after"
    assert not pool.overdue()
    failing = pool.submit(lambda: 1 / 0)  # a job that fails is done too
    with pytest.raises(ZeroDivisionError):
        failing.result(2)
    time.sleep(0.2)
    assert not pool.overdue()


def test_a_job_that_waits_in_the_queue_past_its_due_time_makes_the_pool_overdue():
    pool = cp._ContextPool(1, "test-context", due_s=0.15)
    release = threading.Event()
    pool.submit(release.wait, 5)
    time.sleep(0.1)
    pool.submit(lambda: None)
    time.sleep(0.1)  # the first job is 0.2 s old, the second 0.1 s: overdue because of the first
    assert pool.overdue()
    release.set()


def test_contexts_are_overdue_only_with_a_pool_that_is(monkeypatch):
    monkeypatch.setattr(cp, "_pool", None)
    assert cp.contexts_overdue() is False
    pool = cp._ContextPool(1, "test-context", due_s=0.05)
    monkeypatch.setattr(cp, "_pool", pool)
    release = threading.Event()
    pool.submit(release.wait, 5)
    assert cp.contexts_overdue() is False
    time.sleep(0.1)
    assert cp.contexts_overdue() is True
    release.set()


def test_a_camera_pauses_before_its_frame_only_while_a_context_frame_is_overdue(monkeypatch):
    monkeypatch.setattr(worker_mod, "contexts_overdue", lambda: False)
    t0 = time.monotonic()
    assert worker_mod.make_room_for_contexts() == 0.0
    assert time.monotonic() - t0 < cp.YIELD_S
    monkeypatch.setattr(worker_mod, "contexts_overdue", lambda: True)
    t0 = time.monotonic()
    assert worker_mod.make_room_for_contexts() == cp.YIELD_S
    assert time.monotonic() - t0 >= cp.YIELD_S * 0.9


def test_the_camera_loop_makes_room_before_every_frame_it_analyses(monkeypatch):
    from console.feeds.source import DemoSource
    from console.pipeline.recognizer import FrameResult, ScoreStats

    rooms: list[float] = []
    monkeypatch.setattr(worker_mod, "make_room_for_contexts", lambda: rooms.append(time.monotonic()) or 0.0)

    class Counting:
        stats = ScoreStats()
        outbox = ()
        outbox_dropped = 0
        calls: list[float] = []

        def process(self, image, captured_at, index):
            Counting.calls.append(time.monotonic())
            return FrameResult(index, captured_at, [], [], 0, 0, 0.0)

        def drain_outbox(self, force=False):
            return []

    source = DemoSource(0, realtime=True)
    worker = worker_mod.CameraWorker(source, Counting())
    source.start()
    worker.start()
    time.sleep(0.6)
    source.stop()
    worker.stop()
    assert len(Counting.calls) >= 3
    # before each analysis, and after the one before it, the camera asked whether to make room
    bounds = [0.0, *Counting.calls]
    for before, call in zip(bounds, Counting.calls, strict=False):
        assert any(before <= r <= call for r in rooms)
