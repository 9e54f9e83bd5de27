"""Handhelds (Set up, per deployment): a supervisor pairs an engagement officer's phone with a
one-time code - shown large, with its QR code, its expiry and the handheld service's certificate
fingerprint to compare on the phone - and revokes a device at once, with a reason.

Every read and write is a service call in a background job as the signed-in user; the QR code's PNG is
made there too, and only turned into a pixmap here, on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QVBoxLayout,
)

from console.redaction import redact
from console.services.accounts.permissions import Permission
from console.services.engage import console_side, pairing, service
from ui import theme
from ui.feedback import gated_button
from ui.screen_fit import open_fitted
from ui.supervision import gates
from ui.supervision.tables import fill, shown, table
from ui.toast import say

NO_SERVICE = "Start the handheld service: python main.py engage"
QR_PX = 220


def make_code(store, actor, officer: str, deployment_id: int):
    """The code, the service's announcement (None: not started) and the QR code's PNG (None without a service)."""
    code = pairing.start_pairing(store, actor, officer, deployment_id)
    info = service.current(store)
    return code, info, service.qr_png(info.pairing_url(code.code)) if info is not None and info.url else None


class HandheldsDialog(QDialog):
    def __init__(self, live, jobs, deployment_id: int, deployment_name: str = "", parent=None) -> None:
        super().__init__(parent)
        self.live, self.jobs, self.actor, self.dep_id = live, jobs, live.operator, deployment_id
        self.devices: list[dict] = []
        self.setWindowTitle(f"Handhelds - {deployment_name or f'deployment {deployment_id}'}")
        open_fitted(self, 1000, 680)
        v = QVBoxLayout(self)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Engagement officer:"))
        self.officer = QComboBox()
        pick.addWidget(self.officer, 1)
        self.pair_button = gated_button("Pair a phone", Permission.PAIR_HANDHELD)
        self.pair_button.clicked.connect(self._pair)
        pick.addWidget(self.pair_button)
        v.addLayout(pick)

        card = QFrame()
        card.setObjectName("card")
        grid = QGridLayout(card)
        self.qr = QLabel("The QR code shows here")
        self.qr.setFixedSize(QR_PX, QR_PX)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.qr, 0, 0, 4, 1)
        self.code = QLabel("-----")
        self.code.setStyleSheet("font-family: monospace; font-size: 30pt; font-weight: bold; letter-spacing: 2px;")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.code, 0, 1)
        self.expiry = QLabel("Choose the officer, then Pair a phone: a one-time code for their phone shows here.")
        self.address = QLabel("")
        self.fingerprint = QLabel("")
        for label in (self.expiry, self.address, self.fingerprint):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.expiry, 1, 1)
        grid.addWidget(self.address, 2, 1)
        grid.addWidget(self.fingerprint, 3, 1)
        grid.setColumnStretch(1, 1)
        v.addWidget(card)

        heading = QLabel("Paired devices of this deployment")
        heading.setObjectName("heading")
        v.addWidget(heading)
        self.table = table(["Officer", "Label", "Paired", "Expires", "State"])
        self.table.setSelectionBehavior(self.table.SelectionBehavior.SelectRows)
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.revoke_button = gated_button("Revoke selected device", Permission.PAIR_HANDHELD, "asks why", "...")
        self.revoke_button.clicked.connect(self._ask_revoke)
        row.addWidget(self.revoke_button)
        v.addLayout(row)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        v.addWidget(self.message)
        for button in (self.pair_button, self.revoke_button):
            button.setAutoDefault(False)
        self.greyed = gates.apply(self)
        self.refresh()

    # -- answers ----------------------------------------------------------------------
    def _say(self, text: str, kind: str = "done") -> None:
        self.message.setText(text)
        say(self, text, kind)

    def _fail(self, exc: Exception) -> None:
        self._say(f"Refused: {redact(str(exc))}", "refused")

    # -- reading ----------------------------------------------------------------------
    def refresh(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.dep_id
        if not actor.may(Permission.PAIR_HANDHELD):
            self._say("Pairing handhelds is a supervisor's: nothing to show.", "info")
            return
        self.jobs.submit(lambda: (console_side.officer_accounts(store, actor), pairing.devices(store, actor, dep),
                                  service.current(store)), self._show, self._fail)

    def _show(self, answer) -> None:
        accounts, devices, info = answer
        chosen = self.officer.currentData()
        self.officer.clear()
        for a in accounts:
            self.officer.addItem(f"{a['display_name']} ({a['username']})", a["username"])
        if chosen is not None and self.officer.findData(chosen) >= 0:
            self.officer.setCurrentIndex(self.officer.findData(chosen))
        if not accounts:
            self.officer.addItem("No engagement officer account: an administrator creates one (Users)", None)
        self.pair_button.setEnabled(bool(accounts) and self.pair_button not in self.greyed)
        self.devices = devices
        fill(self.table, [[d["display_name"] + f" ({d['officer']})", d["label"] or "-", d["paired_at"], d["expires_at"],
                           d["state"] + (f" {shown(d['revoked_at'])}" if d["revoked_at"] else "")] for d in devices])
        self._show_service(info)

    def _show_service(self, info) -> None:
        if info is None or not info.url:
            self.address.setText(f"<b style='color:{theme.LOST}'>{NO_SERVICE}</b> (on this machine, as an administrator"
                                 " sets it up); the phones reach it over the control room's network.")
            self.fingerprint.setText("")
            return
        self.address.setText(f"On the phone open <b>{info.pairing_url()}</b> (or scan the code) and type the code.")
        self.fingerprint.setText(f"The service's certificate fingerprint (SHA-256) - the phone shows the same:<br>"
                                 f"<tt>{info.fingerprint}</tt>")

    # -- pairing ----------------------------------------------------------------------
    def _pair(self) -> None:
        officer = self.officer.currentData()
        if not officer:
            self._say("Choose the engagement officer whose phone this is first.", "refused")
            return
        store, actor, dep = self.live.store, self.actor, self.dep_id
        self.jobs.submit(lambda: make_code(store, actor, officer, dep), self._show_code, self._fail)

    def _show_code(self, made) -> None:
        code, info, png = made
        self.code.setText(code.code)
        self.expiry.setText(f"One-time code for <b>{code.officer}</b>: works once, until <b>{shown(code.expires_at)}</b>"
                            f" ({int(pairing.CODE_TTL.total_seconds() // 60)} minutes). Logged.")
        if png:
            pixmap = QPixmap()
            pixmap.loadFromData(png, "PNG")  # built here, on the GUI thread
            self.qr.setPixmap(pixmap.scaled(QR_PX, QR_PX, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation))
        else:
            self.qr.setPixmap(QPixmap())
            self.qr.setText("No QR code:\nthe handheld service\nis not running")
        self._show_service(info)
        self._say(f"Pairing code made for {code.officer}. It is shown once: pair the phone now.")
        self.refresh()

    # -- revoking ----------------------------------------------------------------------
    def selected_device(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return self.devices[rows[0].row()]
        live = [d for d in self.devices if d["state"] == "live"]
        return live[0] if len(live) == 1 and len(self.devices) == 1 else None

    def _ask_revoke(self) -> None:
        device = self.selected_device()
        if device is None:
            self._say("Select the device to revoke.", "refused")
            return
        dialog = QInputDialog(self)  # asked without a nested event loop
        dialog.setWindowTitle("Revoke a handheld")
        dialog.setLabelText(f"Revoke {device['officer']}'s {device['label'] or 'phone'} now: its page goes blank "
                            "within seconds.\nWhy? (logged)")
        dialog.textValueSelected.connect(lambda text: self._revoke(device["device_id"], text))
        self.reason_dialog = dialog
        dialog.open()

    def _revoke(self, device_id: int, reason: str) -> None:
        if not reason.strip():
            self._say("Revoking a handheld needs a reason: nothing was revoked.", "refused")
            return
        store, actor = self.live.store, self.actor

        def done(_none) -> None:
            self._say("Handheld revoked and logged: it is refused from now on.")
            self.refresh()

        self.jobs.submit(lambda: pairing.revoke(store, actor, device_id, reason.strip()), done, self._fail)
