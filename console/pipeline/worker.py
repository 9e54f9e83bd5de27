"""A camera worker: one thread that always recognises the newest frame of one source.

Recognition can be paused (the deployment's human-oversight stop: the camera is released and no
frame is analysed until a supervisor restarts it) or halted for good (the deployment ended)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from console import clock
from console.feeds.source import Frame, FrameSource, LatestSlot
from console.pipeline.context_pool import YIELD_S, contexts_overdue
from console.pipeline.recognizer import CameraRecognizer, FrameResult

# The analysis of frames runs a little below everything else in the process (nice +ANALYSIS_NICENESS
# on this thread alone): the alert writer, the pool's lease renewals, heartbeats, the sources'
# decoding and the window go first when the cores are short, and the cameras analyse with what is
# left - a newer frame replaces any they could not reach. Only an alert's context frame being made
# runs below the analysis (console/pipeline/context_pool.py), and the cameras pause for it when one
# is overdue.
ANALYSIS_NICENESS = 6


def make_room_for_contexts() -> float:
    """Pause before the next frame while a context frame is overdue: the seconds paused (0 if none)."""
    if not contexts_overdue():
        return 0.0
    time.sleep(YIELD_S)
    return YIELD_S


def _yield_to_others() -> None:
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + ANALYSIS_NICENESS))
    except (AttributeError, OSError):  # not on this platform (Windows), or not allowed: same priority as the rest
        pass


@dataclass(frozen=True)
class Snapshot:
    """What a display needs: the newest frame, and the newest analysed frame with the
    overlays computed on it (so boxes are drawn on the pixels they were found in)."""

    frame: Frame | None
    analysed: Frame | None
    result: FrameResult | None


class CameraWorker:
    def __init__(self, source: FrameSource, recognizer: CameraRecognizer,
                 on_alert: Callable[[int], None] | None = None,
                 flush_stats: Callable[[int, int, object], None] | None = None,
                 flush_every_s: float = 10.0,
                 on_result: Callable[[FrameResult], None] | None = None,
                 until: float | None = None,
                 on_halt: Callable[[str], None] | None = None) -> None:
        self.source = source
        self.recognizer = recognizer
        # An alert's context frame is made off this camera's thread (console/pipeline/alerting.py):
        # the camera goes on analysing while it is, and this loop writes it when it is ready.
        background = getattr(recognizer, "prepare_in_background", None)
        if callable(background):
            background()
        self.on_alert = on_alert
        self.flush_stats = flush_stats
        self.flush_every_s = flush_every_s
        self.on_result = on_result
        self.until = until  # end of the authorised window (epoch seconds): no recognition after it
        self.on_halt = on_halt
        self.halted = ""  # why recognition ended for good ("" while it may run)
        self.paused = ""  # why recognition is stopped for now ("" while it runs)
        self.results = LatestSlot()
        self.analysed = 0
        self._analysed_at: list[float] = []  # when the last frames were analysed (the analysed rate)
        self.embedded_total = 0
        self.skipped = 0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._deadline_mono: float | None = None

    @property
    def analysed_fps(self) -> float:
        """Frames analysed per second, over the last two seconds (0 when none lately)."""
        now, times = time.monotonic(), self._analysed_at
        recent = [t for t in times if now - t <= 2.0]
        return len(recent) / 2.0 if recent else 0.0

    @property
    def recognising(self) -> bool:
        return not (self.halted or self.paused)

    def pause(self, reason: str) -> None:
        """Stop recognising at once (the frame in hand, if any, is the last) and release the camera."""
        self.paused = reason or "stopped"
        self.source.stop(timeout=1.0)

    def resume(self) -> None:
        if self.halted or not self.paused:
            return
        self.paused = ""
        self.source.start()

    def halt(self, reason: str) -> None:
        """Stop recognising for good (the deployment ended); the thread ends by itself."""
        self.halted = reason or "ended"
        self._stop.set()
        self.source.stop(timeout=1.0)

    @property
    def problem(self) -> str:
        """What the operator should know about this camera's recognition now, or ""."""
        rec = self.recognizer
        if getattr(rec, "refused", 0):
            return f"{rec.refused} alert(s) refused by the database: {rec.refusal}"
        if rec.outbox or rec.outbox_dropped:
            lost = f"; {rec.outbox_dropped} could not be kept" if rec.outbox_dropped else ""
            return (f"{len(rec.outbox)} alert(s) waiting to be written{lost} - {rec.store_problem} "
                    "(retrying every few seconds)")
        return self.error

    def start(self) -> CameraWorker:
        if self.until is not None:
            # The window's end on the monotonic clock too: setting the wall clock back must not
            # let recognition run past the authorised end.
            self._deadline_mono = time.monotonic() + (self.until - clock.wall())
        self._thread = threading.Thread(target=self._run, name=f"worker-{self.source.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._flush()
        self._announce(self.recognizer.drain_outbox(force=True))
        close = getattr(self.recognizer, "close_alert_writer", None)
        if callable(close):
            close()
        if self.recognizer.outbox:
            print(f"camera {self.source.name}: {len(self.recognizer.outbox)} alert(s) could not be written before "
                  f"shutdown: {self.recognizer.store_problem}", file=sys.stderr)

    def _announce(self, alert_ids: list[int]) -> None:
        if self.on_alert is not None:
            for alert_id in alert_ids:
                self.on_alert(alert_id)

    def snapshot(self) -> Snapshot:
        _, frame = self.source.slot.peek()
        _, pair = self.results.peek()
        analysed, result = pair if pair is not None else (None, None)
        return Snapshot(frame, analysed, result)

    def _flush(self) -> bool:
        """Store the face counts; False when the store refused them (they are kept for later)."""
        if self.flush_stats is not None:
            analysed, gated, best = self.recognizer.stats.take()
            if analysed or gated:
                try:
                    self.flush_stats(analysed, gated, best)
                except Exception as exc:  # kept for the next flush; the camera goes on
                    self.recognizer.stats.put_back(analysed, gated, best)
                    self.error = f"face counts not stored yet: {exc}"
                    return False
        if self.error.startswith("face counts"):
            self.error = ""
        return True

    def _window_over(self, frame: Frame) -> bool:
        if self.until is None:
            return False
        return frame.captured_at >= self.until or (
            self._deadline_mono is not None and time.monotonic() >= self._deadline_mono)

    def _run(self) -> None:
        _yield_to_others()
        seen = 0
        last_flush = time.monotonic()
        while not self._stop.is_set():
            self._announce(self.recognizer.drain_outbox())
            seq, frame = self.source.slot.get_newer(seen, timeout=0.2)
            if frame is None or seq == seen:
                continue
            self.skipped += max(0, seq - seen - 1)
            seen = seq
            if self.paused or self.halted:  # stopped by a person, or ended: this frame is not analysed
                continue
            make_room_for_contexts()
            if self._window_over(frame):
                # The deployment's window is over: stop recognising at once, by ourselves.
                self.halted = "the deployment's authorised window is over"
                self.source.stop(timeout=0)
                if self.on_halt is not None:
                    try:
                        self.on_halt(self.halted)
                    except Exception as exc:  # recognition has stopped all the same
                        self.error = f"the end of the window could not be recorded: {exc}"
                break
            try:
                result = self.recognizer.process(frame.image, frame.captured_at, frame.index)
            except Exception as exc:  # one bad frame or a DB hiccup must not kill the camera
                self.error = str(exc)
                continue
            self.analysed += 1
            self._analysed_at = (self._analysed_at + [time.monotonic()])[-64:]
            self.embedded_total += result.embedded
            self.results.put((frame, result))
            if self.on_result is not None:
                self.on_result(result)
            self._announce(result.alert_ids)
            if time.monotonic() - last_flush >= self.flush_every_s:
                stored = self._flush()
                # After a refused flush, try again in a couple of seconds rather than a whole period.
                last_flush = time.monotonic() - (0 if stored else max(0.0, self.flush_every_s - 2.0))
