"""An alert's pictures made off the camera's thread.

Before an alert is stored, its context frame has every bystander's face made unrecognisable
(console/vision/bystanders.py): three detector passes over the frame, 0.2-0.6 s of a core on the
2-core development machine. Done on the camera's own thread, that camera analysed nothing for as
long. Here it runs on a small pool of its own, shared by the cameras of one process, while the
camera goes on with the next frame (console/pipeline/context_pool.py: since the alert is stored
first, the pool runs below the cameras' search).

What leaves the camera's thread is a copy of the frame and the boxes; what comes back is the
finished JPEG. A track that raised an alert counts as alerted from the moment it did, so it never
raises a second while the first is being prepared.

Given a writer of its own (a store connection for the pool: ``alert_writer_factory``), the alert does
not wait for its frame: the process's alert-writer thread stores it at once, without a context frame,
and the blurred frame follows it when made (console/store/migrations_context.py), on the same
connection. The camera announces the alert as soon as it is stored, at its loop's next turn. An alert
the store would not take waits in the camera's outbox with its frame, and later ones queue behind it.
Without a writer, the camera writes its prepared alerts itself, each with its frame, in the order
it raised them, the next time its loop turns (at the next frame, or within 0.2 s on a still feed).

A frame whose bystanders could not be blurred is not kept (the alert goes without it), exactly as
on the camera's thread; the unblurred copy is dropped with the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np

from console.domain import AlertRecord
from console.errors import AlertRefused, ConsoleError
from console.pipeline.context_pool import context_pool, writer_pool
from console.pipeline.frames import context_frame, context_scale, encode_jpeg, face_in_probe, iso, probe_crop
from console.vision.bystanders import shared_blur

log = logging.getLogger(__name__)

def prepare(make_context: Callable[[np.ndarray, np.ndarray, list], tuple[bytes, float]], frame: np.ndarray,
            box: np.ndarray, boxes: list) -> Future:
    """``make_context(frame, box, boxes)`` on the pool, on a copy of the frame (the camera's own
    frame goes on to the display and is never touched)."""
    return context_pool().submit(make_context, frame.copy(), np.array(box, copy=True), list(boxes))


# Alerts that could not be written (database locked, disk full, server gone) wait in memory,
# in order, and are written as soon as the store takes them again. The cap keeps a store
# that never returns from eating the machine's memory (each alert holds two JPEGs).
OUTBOX_MAX = 500
OUTBOX_RETRY_S = 2.0


# (write, close, attach): attach(alert_id, jpeg) stores the context frame of an alert written without one.
_Writer = tuple[Callable[[AlertRecord], int], Callable[[], None], Callable[[int, bytes], None]]


@dataclass
class _PendingAlert:
    record: AlertRecord
    track: object
    entry_id: int
    raised_at: float


class AlertWriting:
    """The alert half of a camera's recogniser (console/pipeline/recognizer.py): raising an alert,
    its context frame, and the outbox that holds what the store would not take yet."""

    def _init_alerts(self, alert_writer_factory=None) -> None:
        self.outbox: deque[_PendingAlert] = deque()
        self.outbox_dropped = 0
        # Alerts the database refused for good: the deployment was stopped or ended while they were
        # being raised. Kept out of the outbox (retrying cannot help) and counted for the operator.
        self.refused = 0
        self.refusal = ""
        self.store_problem = ""  # the last write failure, while alerts are waiting; "" when all is written
        self._next_retry = 0.0
        # Alerts being written (first: the writer thread's future, or None without a writer) and their
        # context frames made on the pool (made), in the order raised; None: made on the camera's
        # thread (scan, tests, selftest).
        self.preparing: deque[tuple[Future | None, Future, _PendingAlert]] | None = None
        # The frames of stored alerts still being made and attached, each (alert id, future).
        self.attaching: deque[tuple[int, Future]] = deque()
        self.contexts_lost = 0  # frames of stored alerts that could not be attached (the alert stays)
        # () -> (write, close, attach): a writer on a store connection of its own, for the writer thread
        # and the pool (one at a time: _writer_lock); None: prepared alerts are written by the camera's loop.
        self.alert_writer_factory: Callable[[], _Writer] | None = alert_writer_factory
        self._writer: _Writer | None = None
        self._writer_lock = threading.Lock()

    def prepare_in_background(self) -> None:
        """Make alerts' context frames - and, given an ``alert_writer_factory``, write the alerts - off
        the camera's thread from now on; ``drain_outbox``, called by the camera's loop, collects them."""
        if self.keep_context and self.preparing is None:
            context_pool()  # its threads made now, by the thread that sets the camera up
            writer_pool()
            self.preparing = deque()

    def close_alert_writer(self) -> None:
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer[1]()
            except Exception as exc:  # closing a connection that already failed
                log.debug("camera %s: the alert writer's connection did not close cleanly: %s", self.camera_id, exc)

    def _own_writer(self) -> _Writer:
        """The pool's connection (opened on first use; the caller holds ``_writer_lock``)."""
        if self._writer is None:
            self._writer = self.alert_writer_factory()
        return self._writer

    def _stored_first(self, record: AlertRecord):
        """On the writer thread: the alert, without its frame. ("written", id) / ("refused", exc) /
        ("held", exc): the store would not take it now."""
        def job():
            with self._writer_lock:
                try:
                    return "written", self._own_writer()[0](record)
                except AlertRefused as exc:
                    return "refused", exc
                except ConsoleError as exc:
                    return "held", exc
        return job

    def _made(self, record: AlertRecord, first: Future | None):
        """On the pool: the context frame, then - once ``first`` has stored the alert - the frame stored
        after it. Returns the record with its frame (for the outbox, should the alert not be stored)."""
        def job(frame: np.ndarray, box: np.ndarray, boxes: list) -> AlertRecord:
            jpeg, _ = self._context(frame, box, boxes)
            made = replace(record, context_jpeg=jpeg)
            if first is None or not jpeg:
                return made
            try:
                kind, alert_id = first.result()
            except Exception:  # the writer failed: the camera writes the alert, frame and all
                return made
            if kind == "written":
                with self._writer_lock:
                    self._own_writer()[2](alert_id, jpeg)
            return made
        return job

    def drain_outbox(self, force: bool = False) -> list[int]:
        """Write alerts whose context frame is ready, then waiting alerts, oldest first; return the
        new ids. The waiting ones are tried at most every OUTBOX_RETRY_S (a locked database makes
        each try wait), unless ``force`` (which also waits for the frames still being made)."""
        written = self._write_prepared(force)
        if not self.outbox or (not force and time.monotonic() < self._next_retry):
            return written
        while self.outbox:
            pending = self.outbox[0]
            try:
                alert_id = self.write_alert(pending.record)
            except AlertRefused as exc:
                self.outbox.popleft()
                self._refused(exc)
                continue
            except ConsoleError as exc:
                self.store_problem = str(exc)
                self._next_retry = time.monotonic() + OUTBOX_RETRY_S
                return written
            self.outbox.popleft()
            self._written(pending, alert_id)
            written.append(alert_id)
        self.store_problem = ""
        return written

    def _written(self, pending: _PendingAlert, alert_id: int) -> None:
        pending.track.alert_ids[pending.entry_id] = alert_id
        self._recent[pending.entry_id] = (alert_id, pending.raised_at)

    def _write_prepared(self, wait: bool) -> list[int]:
        """The alerts the writer has stored, or whose frame the pool has made, in the order raised."""
        written: list[int] = []
        while self.preparing:
            first, made, pending = self.preparing[0]
            if first is not None and (wait or first.done()):
                try:
                    kind, value = first.result(timeout=30)
                except Exception as exc:  # the writer itself failed: the camera writes the alert
                    log.warning("camera %s: the alert writer failed (%s); the camera writes the alert", self.camera_id,
                                exc)
                    kind, value = "failed", exc
                if kind == "written":
                    self.preparing.popleft()
                    self.attaching.append((value, made))
                    self._written(pending, value)
                    written.append(value)
                    continue
                if kind == "refused":
                    self.preparing.popleft()
                    self._refused(value)
                    continue
            elif first is not None:
                break
            if not (wait or made.done()):
                break  # the outbox takes the alert with its frame, in order
            self.preparing.popleft()
            try:
                record = made.result(timeout=30)
            except Exception as exc:  # the frame is not kept; the alert is raised without it
                log.warning("camera %s: the alert's context frame was not kept (%s)", self.camera_id, exc)
                record = pending.record  # raised with an empty context frame
            pending = _PendingAlert(record, pending.track, pending.entry_id, pending.raised_at)
            if first is not None and kind == "held":
                self.store_problem = str(value)
                self._next_retry = time.monotonic() + OUTBOX_RETRY_S
                self._hold(pending)
                continue
            alert_id = self._write_or_hold(record, pending.track, pending.entry_id, pending.raised_at)
            if alert_id is not None:
                self._written(pending, alert_id)
                written.append(alert_id)
        self._reap_attached(wait)
        return written

    def _reap_attached(self, wait: bool) -> None:
        """Hear how the frames of stored alerts went; a frame that could not be stored is lost (logged,
        counted), its alert stays as stored."""
        while self.attaching and (wait or self.attaching[0][1].done()):
            alert_id, made = self.attaching.popleft()
            try:
                made.result(timeout=30)
            except Exception as exc:
                self.contexts_lost += 1
                self.store_problem = f"the context frame of alert {alert_id} was not stored: {exc}"
                log.warning("camera %s: the context frame of alert %s was not stored (%s)", self.camera_id,
                            alert_id, exc)

    def _refused(self, exc: AlertRefused) -> None:
        self.refused += 1
        self.refusal = str(exc)

    def _write_or_hold(self, record: AlertRecord, tr, entry_id: int, now: float) -> int | None:
        """Write the alert now, or - when the store refuses, or older alerts are still waiting -
        queue it behind them. The track counts as alerted either way: no duplicate alerts."""
        if not self.outbox:
            try:
                return self.write_alert(record)
            except AlertRefused as exc:
                self._refused(exc)
                return None
            except ConsoleError as exc:
                self.store_problem = str(exc)
                self._next_retry = time.monotonic() + OUTBOX_RETRY_S
        self._hold(_PendingAlert(record, tr, entry_id, now))
        return None

    def _hold(self, pending: _PendingAlert) -> None:
        if len(self.outbox) >= OUTBOX_MAX:
            self.outbox.popleft()
            self.outbox_dropped += 1
        self.outbox.append(pending)

    def _maybe_save_view(self, frame, box, tr, entry_id: int, score: float, quality, captured_at: float) -> None:
        """Keep a better view of a track that raised an alert (at most max_views)."""
        alert_id = tr.alert_ids.get(entry_id)
        if (self.write_view is None or alert_id is None or tr.views_saved >= self.max_views
                or quality.score < tr.best_alert_quality + 0.03):
            return
        tr.best_alert_quality = quality.score
        tr.views_saved += 1
        try:
            self.write_view(alert_id, encode_jpeg(probe_crop(frame, box)), score, quality.as_dict(), iso(captured_at))
        except ConsoleError as exc:  # a better view is a nicety; the alert itself is written
            self.store_problem = str(exc)

    def _context(self, frame: np.ndarray, box: np.ndarray, boxes: list) -> tuple[bytes, float]:
        """The context frame as stored: shrunk to 1280 px wide, every face but the alerted one
        made unrecognisable first (console/vision/bystanders.py). A frame whose bystanders cannot
        be blurred is not kept at all: the alert is raised without it."""
        ctx, scale = context_frame(frame)
        if not self.keep_context:
            return b"", scale
        try:
            blur = self.bystanders or shared_blur()
            ctx, _ = blur.blur(ctx, box * scale, [b * scale for b in boxes])
        except Exception as exc:  # whatever failed, the unblurred frame must not be stored
            log.warning("camera %s: the alert's context frame was not kept: bystanders' faces could not be"
                        " blurred (%s)", self.camera_id, exc)
            return b"", scale
        return encode_jpeg(ctx, 85), scale

    def _raise(self, frame: np.ndarray, dets: list, i: int, tr, cands, q, verdict, captured_at: float,
               now: float) -> int | None:
        """The alert for track ``tr`` (detection ``i``) on its top candidate: written now, held in
        the outbox, or - in the background - handed to the pool to make its context frame first.
        The track counts as alerted at once either way: no second alert while the first is on its way."""
        box, entry_id = dets[i].box, cands[0].entry_id
        boxes = [d.box for d in dets]
        if self.preparing is not None:
            context_jpeg, scale = b"", context_scale(frame.shape)
        else:
            context_jpeg, scale = self._context(frame, box, boxes)
        record = AlertRecord(
            deployment_id=self.deployment_id,
            camera_id=self.camera_id,
            track_id=tr.track_id,
            candidates=[(c.entry_id, c.image_id, c.score) for c in cands],
            threshold=self.settings.threshold,
            model_id=self.engine.model_id,
            bbox=[round(float(v) * scale, 1) for v in box],
            quality={**q.as_dict(), **verdict.as_dict(), "probe_box": face_in_probe(frame.shape, box)},
            probe_jpeg=encode_jpeg(probe_crop(frame, box)),
            context_jpeg=context_jpeg,
            captured_at=iso(captured_at),
            key=f"{self.camera_id}/{tr.track_id}/{entry_id}/{iso(captured_at)}",
        )
        tr.alerted_entries.add(entry_id)
        tr.best_alert_quality = q.score
        self._recent[entry_id] = (-1, now)
        if self.preparing is not None:
            # Stored at once by the writer thread, unless older alerts wait for the store (they go first).
            first = (writer_pool().submit(self._stored_first(record))
                     if self.alert_writer_factory is not None and not self.outbox else None)
            self.preparing.append((first, prepare(self._made(record, first), frame, box, boxes),
                                   _PendingAlert(record, tr, entry_id, now)))
            return None
        alert_id = self._write_or_hold(record, tr, entry_id, now)
        if alert_id is not None:
            tr.alert_ids[entry_id] = alert_id
            self._recent[entry_id] = (alert_id, now)
        return alert_id
