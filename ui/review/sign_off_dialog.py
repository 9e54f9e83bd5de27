"""The confirmation step before a supervisor signs the record: the figures as they will be
signed, and, when the record may not be signed yet, why (the button stays off)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QScrollArea, QVBoxLayout

from ui import theme
from ui.review.record_html import figures_html


class SignOffDialog(QDialog):
    def __init__(self, preview: dict, parent=None) -> None:
        super().__init__(parent)
        r, why = preview["record"], preview["refusal"]
        self.setWindowTitle(f"Sign off the record - {r['name']}")
        self.resize(760, 620)
        v = QVBoxLayout(self)
        intro = QLabel(
            f"<b>You are about to sign the record of {escape(r['name'])}.</b><br>Once signed it is frozen: every "
            "export reproduces it exactly, and any later change is listed in a dated addendum, never written "
            "into it. Check the figures below.")
        intro.setWordWrap(True)
        v.addWidget(intro)
        self.figures = QLabel(figures_html(r))
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        self.figures.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.figures)
        v.addWidget(scroll, 1)
        self.refusal = QLabel(f"<span style='color:{theme.LOST}'><b>It cannot be signed yet:</b> {escape(why)}.</span>"
                              if why else "")
        self.refusal.setWordWrap(True)
        self.refusal.setVisible(bool(why))
        v.addWidget(self.refusal)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note with the signature (optional, logged)")
        v.addWidget(self.note)
        self.password = QLineEdit()  # it opens the supervisor's own sign-off key (checked as a sign-in is)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password: it opens your own sign-off key")
        self.password.setEnabled(why is None)
        v.addWidget(self.password)
        buttons = QDialogButtonBox()
        self.sign = buttons.addButton("Sign the record", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign.setEnabled(why is None)
        if why:
            self.sign.setToolTip(why)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)
