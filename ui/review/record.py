"""The record tab: the deployment record (export, sign-off), the audit log's check, and what a
different threshold would have done."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from console.services.accounts.permissions import Permission
from console.services.record import audit_trail, reports, signing
from ui import theme
from ui.feedback import gated_button
from ui.record_pdf import render_record_pdf
from ui.review.record_html import document_html
from ui.review.sign_off_dialog import SignOffDialog
from ui.tool_dialog import ToolTab


def what_if_text(w: dict) -> str:
    def split(d: dict) -> str:
        return f"{d['true']} true, {d['false']} false, {d['undecided']} undecided"

    return (f"At {w['threshold_asked']:.3f} (in force {w['threshold_in_force']:.3f}): of the past incidents, "
            f"{w['past_incidents_kept']} would still be raised ({split(w['kept'])}) and {w['past_incidents_suppressed']} "
            f"not ({split(w['suppressed'])}); of their alerts, {w['past_alerts_kept']} and "
            f"{w['past_alerts_suppressed']}. Faces scoring at or above it: {w['faces_at_or_above_asked']} "
            f"(at the threshold in force: {w['faces_at_or_above_in_force']}). {w['note']}.")


class RecordTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        self.record = QLabel("")
        self.record.setTextFormat(Qt.TextFormat.RichText)
        self.record.setWordWrap(True)
        self.record.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.document: dict | None = None
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.record)
        v.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.export_path = QLineEdit()
        self.export_path.setPlaceholderText("file to write: .pdf, .csv or .json")
        export = QPushButton("Export record")
        export.clicked.connect(lambda: self.export_record(self.export_path.text().strip()))
        sign = self.sign_button = gated_button("Sign off the record", Permission.AUTHORISE_DEPLOYMENT, end="…")
        sign.clicked.connect(self.sign_off)
        verify = QPushButton("Verify the audit log")
        verify.clicked.connect(self.verify_audit)
        for x in (self.export_path, export, sign, verify):
            row.addWidget(x)
        v.addLayout(row)
        self.audit_result = QLabel("")
        self.audit_result.setWordWrap(True)
        v.addWidget(self.audit_result)
        form = QFormLayout()
        self.what_if_value = QDoubleSpinBox()
        self.what_if_value.setDecimals(3)
        self.what_if_value.setRange(0.0, 0.99)
        self.what_if_value.setSingleStep(0.01)
        self.what_if_value.setValue(float(self.live.deployment["threshold"]))
        self.what_if_value.valueChanged.connect(self.what_if)
        form.addRow("What if the threshold had been", self.what_if_value)
        self.what_if_result = QLabel("")
        self.what_if_result.setWordWrap(True)
        form.addRow(self.what_if_result)
        v.addLayout(form)

    def refresh(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.read(lambda: signing.view(store, actor, dep), self._show_document)
        self.what_if()

    def export_record(self, path: str) -> None:
        if not path:
            self.say("Give a file name ending in .pdf, .csv or .json.")
            return
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.jobs.submit(lambda: reports.export_record(store, actor, dep, path, render_record_pdf),
                         lambda out: self.say(f"Wrote {out} (the export is in the audit log)."), self.fail)

    def _show_document(self, doc: dict) -> None:
        self.document = doc
        self.record.setText(document_html(doc))

    def sign_off(self) -> None:
        """First the confirmation step with the figures (read in the background), then the signature."""
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.read(lambda: signing.preview(store, actor, dep), self.confirm_sign_off)

    def confirm_sign_off(self, preview: dict) -> None:
        self.confirm = SignOffDialog(preview, self)
        self.confirm.accepted.connect(lambda: self._sign(self.confirm.note.text().strip(), self.confirm.password.text()))
        self.confirm.open()

    def _sign(self, note: str, password: str) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.jobs.submit(lambda: reports.sign_off(store, actor, dep, note or "signed in the console", password),
                         lambda digest: (self.say(f"Signed off and frozen; record digest {digest[:16]}…"),
                                         self.refresh()), self.fail)

    def verify_audit(self) -> None:
        store, actor = self.live.store, self.actor

        def show(result: audit_trail.Integrity) -> None:
            colour = theme.FACE if result.ok else theme.LOST
            mark = "✓" if result.ok else "✗"
            self.audit_result.setText(f"<span style='color:{colour}'><b>{mark}</b></span> {'<br>'.join(result.lines())}")

        self.read(lambda: audit_trail.verify(store, actor), show)

    def what_if(self, *_a) -> None:
        store, actor, dep, t = self.live.store, self.actor, self.live.deployment_id, self.what_if_value.value()
        self.read(lambda: reports.threshold_what_if(store, actor, dep, t),
                  lambda w: self.what_if_result.setText(what_if_text(w)))
