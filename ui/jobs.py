"""Background jobs with typed success and failure callbacks that run on the GUI thread.

Database work goes to a pool of one thread (one connection, used by one thread at a
time); heavier work (model loading) to the general pool. No failure is swallowed: a job
submitted without a failure callback fails into ``unhandled``, which logs it and which a
window connects to, to show it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from console.redaction import redact


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # delivered to the failure callback on the GUI thread
            exc.__traceback_text__ = redact(traceback.format_exc())  # type: ignore[attr-defined]
            self.relay.failed.emit(exc)
        else:
            # Always a tuple: a bare None sent through a queued Signal(object) loses a reference
            # to None on each delivery in PySide6, which ends in "deallocating None".
            self.relay.done.emit((result,))


log = logging.getLogger(__name__)


class JobRunner(QObject):
    unhandled = Signal(str)  # a failure no on_error took, as one line for a window to show

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._relays: set[_Relay] = set()

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None) -> None:
        relay = _Relay()  # lives on the GUI thread, so its signals are delivered there
        self._relays.add(relay)

        def finish(_value: Any = None) -> None:
            self._relays.discard(relay)

        if on_done is not None:
            relay.done.connect(lambda boxed: on_done(boxed[0]))
        relay.failed.connect(on_error if on_error is not None else self._unhandled)
        relay.done.connect(finish)
        relay.failed.connect(finish)
        self.pool.start(_Job(fn, relay))

    def _unhandled(self, exc: Exception) -> None:
        log.error("a background job failed and nothing was waiting for its error: %s\n%s", redact(str(exc)),
                  getattr(exc, "__traceback_text__", ""))
        self.unhandled.emit(f"{type(exc).__name__}: {redact(str(exc))}")

    def wait(self, msecs: int = 10000) -> bool:
        return self.pool.waitForDone(msecs)
