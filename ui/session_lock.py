"""The idle lock: after a set time without keyboard or mouse input the console hides everything
and asks the signed-in user's password again. Recognition and alerts go on underneath; the
lock and the unlock are logged. There is no way past it but the password - or "Switch user",
which is a full shift hand-over (ui/shift.py): the next user signs in."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QPushButton

IDLE_LOCK_S = 10 * 60  # default: the console locks after ten minutes without input
INPUT_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel)


class SessionLock(QObject):
    unlocked = Signal(object)  # the actor, after the password was given again (a break ends: ui/fatigue_prompt.py)

    def __init__(self, window: QMainWindow, jobs) -> None:
        super().__init__(window)
        self.window, self.jobs = window, jobs
        self.signed_in = None
        self.idle_lock_s = IDLE_LOCK_S
        self.last_input = time.monotonic()
        self.locked = False
        self.lock_dialog = None
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(2000)
        self.idle_timer.timeout.connect(self._check_idle)

    def enable(self, actor, idle_lock_s: float = IDLE_LOCK_S) -> None:
        self.signed_in = actor
        self.idle_lock_s = idle_lock_s
        self.last_input = time.monotonic()
        QApplication.instance().installEventFilter(self)
        self.idle_timer.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in INPUT_EVENTS:
            self.last_input = time.monotonic()
        return False

    def _check_idle(self) -> None:
        idle = time.monotonic() - self.last_input
        if not self.locked and idle >= self.idle_lock_s:
            self.lock(idle)

    def lock(self, idle_s: float = 0.0) -> None:
        """Hide everything and ask the signed-in user's password."""
        from console.services.accounts import session
        from ui.login import LoginDialog

        actor, location = self.signed_in, getattr(self.window, "location", None)
        self.locked = True
        self.window.centralWidget().hide()
        self.jobs.submit(lambda: session.record_lock(location, actor, idle_s))
        dialog = LoginDialog(lambda _u, p: session.unlock(location, actor, p), self.window,
                             username=actor.username, locked=True)
        self.lock_dialog = dialog
        self.switching = False
        switch = QPushButton("Switch user (hand over the shift)")
        switch.setAutoDefault(False)
        switch.clicked.connect(self._switch)
        dialog.layout().addWidget(switch)
        dialog.switch_button = switch
        dialog.finished.connect(self._unlocked)
        dialog.open()

    def _switch(self) -> None:
        self.switching = True
        self.lock_dialog.reject()

    def _unlocked(self, result: int) -> None:
        if getattr(self, "switching", False):
            self.switching = False
            self.window.shift.sign_out()
            return
        if result and self.lock_dialog.actor is not None:
            self.locked = False
            self.last_input = time.monotonic()
            self.window.centralWidget().show()
            self.unlocked.emit(self.lock_dialog.actor)
        else:
            self.lock(0.0)  # no way past the lock but the password

    def stop(self) -> None:
        self.idle_timer.stop()
        app = QApplication.instance()
        if app is not None and self.signed_in is not None:
            app.removeEventFilter(self)
