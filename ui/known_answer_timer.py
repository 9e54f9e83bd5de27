"""Known-answer test alerts into the queue (console/services/accuracy/known_answer.py): once a minute,
while a deployment is live and someone is signed in, a job on the database thread asks the service
whether a test is due, and makes it if so. The test then reaches every seat's queue as any alert
does, by the change feed: nothing here shows it, so nothing here can set it apart.

It counts the window's one-second status ticks rather than running a timer of its own, so it stops
when the window's timers stop. A refusal goes to the status bar, never into the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from console.redaction import redact
from console.services.accuracy import known_answer

EVERY_S = 60  # status ticks (one a second) between asks


class KnownAnswerTimer(QObject):
    answered = Signal(object)  # after each ask: the test alert made, or None

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.every = EVERY_S
        self._ticks, self._asking = 0, False
        window.status_timer.timeout.connect(self.tick)

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % max(1, self.every) == 0:
            self.check()

    def _signed_in(self):
        """The live deployment while someone is signed in and at the seat; else None."""
        w = self.window
        live = w.live
        if live is None or getattr(live, "operator", None) is None or w.session_lock.locked or w.shift.dialog is not None:
            return None
        return live

    def check(self) -> None:
        live = self._signed_in()
        if live is None or self._asking:
            return
        self._asking = True
        store, dep = live.store, live.deployment_id
        self.window.db_jobs.submit(lambda: known_answer.maybe_inject(store, dep), self._done, self._failed)

    def _done(self, alert_id: int | None) -> None:
        self._asking = False
        self.answered.emit(alert_id)

    def _failed(self, exc: Exception) -> None:
        self._asking = False
        self.answered.emit(None)
        self.window.statusBar().showMessage(f"Known-answer test not made: {redact(str(exc))}", 15000)


def install(window) -> KnownAnswerTimer:
    return KnownAnswerTimer(window)
