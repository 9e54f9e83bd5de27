"""The login dialog, and the same dialog as the idle lock. Password checks run as jobs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from console.redaction import redact
from ui.jobs import JobRunner

DEMO_HINT = ("Demo accounts (labelled demo.*, password <b>demo</b>): demo.operator, demo.supervisor, "
             "demo.admin. Real accounts are created by an administrator.")


class LoginDialog(QDialog):
    """check(username, password) -> Actor runs in the background; the dialog waits for it."""

    def __init__(self, check, parent=None, username: str = "", locked: bool = False, hint: str = DEMO_HINT) -> None:
        super().__init__(parent)
        self.setWindowTitle("Console locked" if locked else "Sign in - Operator Review Console")
        self.setModal(True)
        self.check = check
        self.actor = None
        self.jobs = JobRunner(self, threads=1)
        v = QVBoxLayout(self)
        title = QLabel("Locked after inactivity: enter your password" if locked else "Sign in")
        title.setObjectName("title")
        v.addWidget(title)
        form = QFormLayout()
        self.user = QLineEdit(username)
        self.user.setReadOnly(locked)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        v.addLayout(form)
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        v.addWidget(self.message)
        self.hint = hint if not locked else ""
        if hint and not locked:
            h = QLabel(hint)
            h.setTextFormat(Qt.TextFormat.RichText)
            h.setWordWrap(True)
            h.setObjectName("muted")
            v.addWidget(h)
        self.button = QPushButton("Unlock" if locked else "Sign in")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        v.addWidget(self.button)
        self.password.returnPressed.connect(self.submit)
        (self.password if locked or username else self.user).setFocus()
        self.setMinimumWidth(460)

    def submit(self) -> None:
        user, password = self.user.text().strip(), self.password.text()
        if not user or not password:
            self.message.setText("Enter your user name and password.")
            return
        self.button.setEnabled(False)
        self.message.setText("Checking...")
        self.jobs.submit(lambda: self.check(user, password), self._ok, self._failed)

    def _ok(self, actor) -> None:
        self.actor = actor
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.password.clear()
        self.button.setEnabled(True)
        self.message.setText(redact(str(exc)))
