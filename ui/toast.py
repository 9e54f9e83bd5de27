"""A message where the eye is: a banner laid over the top of a panel, which stays a few seconds.

Every refusal and every no-op is answered this way (not in grey small print in the status bar):
a kind of "refused" is red, "info" is the accent colour. It is a child of the panel it covers, so
it moves and hides with it, and it lets mouse clicks through to nothing below it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from ui import theme

SHOW_MS = 6000
COLOURS = {"refused": theme.AGE_OVERDUE, "info": theme.ACCENT, "done": theme.AGE_NEW,
           "correct": theme.FACE, "wrong": theme.MATCH}  # a known-answer test's reveal: green right, amber not


class Toast(QLabel):
    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.hide)
        self.kind = ""
        host.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, kind: str = "refused", ms: int = SHOW_MS) -> None:
        self.kind = kind
        colour = COLOURS.get(kind, theme.ACCENT)
        self.setStyleSheet(f"QLabel#toast {{ background: {colour}; color: #0b0d10; font-weight: bold;"
                           " font-size: 12pt; padding: 10px 16px; border-radius: 6px; }")
        self.setText(text)
        self._place()
        self.show()
        self.raise_()
        self.timer.start(ms)

    def _place(self) -> None:
        width = max(240, min(self.host.width() - 40, 760))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((self.host.width() - width) // 2, 12)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.host and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False


def toast_on(host: QWidget) -> Toast:
    """The host's toast (made on first use)."""
    toast = getattr(host, "_toast", None)
    if toast is None:
        toast = Toast(host)
        host._toast = toast
    return toast


def say(host: QWidget, text: str, kind: str = "refused") -> None:
    toast_on(host).show_message(text, kind)
