"""The truth about a known-answer test, shown to the operator right after the decision
(console/services/accuracy/known_answer.py): green when the decision was right, amber when not.

It is a toast over the whole window, not only the adjudication view, so that it stays readable when
the view gives way to the camera grid; it goes after a few seconds or at the next key press. Nothing
of this is shown, or differs, before the decision: a test looks like any alert until it is decided.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from ui.toast import Toast, toast_on

REVEAL_MS = 8000  # unless a key is pressed first
HOLD_MS = 2000  # the decided pair stays under the reveal this long before the next alert opens


class _KeyDismiss(QObject):
    """Hides the toast at the next key press anywhere in the application (the key still does its work)."""

    def __init__(self, toast: Toast) -> None:
        super().__init__(toast)
        self.toast = toast
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        toast.timer.timeout.connect(self.stop)

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if getattr(self.toast, "_dismiss", None) is self:
            self.toast._dismiss = None
        self.deleteLater()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress:
            self.toast.hide()
            self.toast.timer.stop()
            self.stop()
        return False


def show_reveal(view: QWidget, shown) -> Toast:
    """Show ``shown`` (a known_answer.Reveal) over the window that holds ``view``."""
    toast = toast_on(view.window())
    old = getattr(toast, "_dismiss", None)
    if old is not None:
        old.stop()
    toast.show_message(shown.text, "correct" if shown.correct else "wrong", REVEAL_MS)
    toast._dismiss = _KeyDismiss(toast)
    return toast
