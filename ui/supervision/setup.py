"""The set-up tab (F9): a deployment made without code - its place, reasons, references and
window; its pre-deployment checklist and authorisation; its cameras, each tested with a preview;
its watchlist entries (ui/supervision/setup_entries.py).

Every button calls a service as the signed-in user in a background job (a camera test waits on
the network there, never on the GUI thread); the service decides who may, and its refusal is
shown as it is worded.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import clock
from console.services.accounts.permissions import Permission
from console.services.setup import cameras, deployment_setup, deployments, new_deployment
from ui.feedback import gated_button
from ui.supervision.instructions import OfficersPage
from ui.supervision.setup_entries import EntriesBox
from ui.supervision.tables import fill, table
from ui.tool_dialog import ToolTab
from ui.video_tile import bgr_to_qimage

DEPLOYMENT_FIELDS = (("name", "Name"), ("location", "Place"), ("rationale", "Why this place"),
                     ("legal_basis", "Legal basis"), ("dpia", "DPIA reference"), ("policy", "Policy reference"),
                     ("starts", "Starts (UTC)"), ("ends", "Ends (UTC)"))


def _iso(t) -> str:
    return t.isoformat(timespec="minutes").replace("+00:00", "Z")


class SetupTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        self.dep_id: int | None = None
        top = QVBoxLayout(self)
        top.setContentsMargins(0, 0, 0, 0)  # inside the dialog's tab: fits a 720 px screen
        pick = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.activated.connect(lambda _i: self._pick(self.picker.currentData()))
        pick.addWidget(QLabel("Deployment:"))
        pick.addWidget(self.picker, 1)
        top.addLayout(pick)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        top.addWidget(self.state)
        self.pages = QTabWidget()  # one page each: the deployment and its checklist, cameras, entries
        first = QWidget()
        h = QHBoxLayout(first)
        h.addWidget(self._new_box(), 1)
        h.addWidget(self._checklist_box(), 1)
        self.entries, self.officers = EntriesBox(self), OfficersPage(self)
        for page, name in ((first, "Deployment and checklist"), (self._camera_box(), "Cameras"),
                           (self.entries, "Watchlist entries"), (self.officers, "Officers' handhelds")):
            self.pages.addTab(page, name)
        top.addWidget(self.pages, 1)

    # -- a new draft ------------------------------------------------------------------
    def _new_box(self) -> QGroupBox:
        box = QGroupBox("New deployment (a draft until a supervisor authorises it)")
        form = QFormLayout(box)
        self.new = {}
        for key, label in DEPLOYMENT_FIELDS:
            self.new[key] = QLineEdit()
            form.addRow(label, self.new[key])
        now = clock.now()
        self.new["starts"].setText(_iso(now))
        self.new["ends"].setText(_iso(now + timedelta(hours=8)))
        self.create_button = gated_button("Create draft", Permission.MANAGE_DEPLOYMENT)
        self.create_button.clicked.connect(self._create)
        form.addRow("", self.create_button)
        return box

    def _create(self) -> None:
        v = {k: w.text() for k, w in self.new.items()}
        store, actor = self.live.store, self.actor

        def ok(dep_id: int) -> None:
            self.say(f"Deployment {v['name']!r} created as a draft and logged: add its cameras and watchlist, tick "
                     "its checklist, then authorise it.")
            self.dep_id = dep_id
            self.refresh()

        self.jobs.submit(lambda: new_deployment.create(store, actor, v["name"], v["location"], v["rationale"],
                                                       v["legal_basis"], v["dpia"], v["policy"], v["starts"],
                                                       v["ends"]), ok, self.fail)

    # -- checklist and authorisation --------------------------------------------------
    def _checklist_box(self) -> QGroupBox:
        box = QGroupBox("Pre-deployment checklist (each item ticked by a supervisor, logged)")
        v = QVBoxLayout(box)
        self.checks: dict[str, QCheckBox] = {}
        for item, text in deployment_setup.CHECKLIST.items():
            name, _, why = text.partition(": ")  # the name on the box, what it means wrapped beneath: fits 1280 px
            check = self.checks[item] = QCheckBox(name)
            check.setToolTip(text)
            check.setStyleSheet("QCheckBox { padding: 3px; }")
            check.clicked.connect(lambda on, item=item: self._tick(item, on))
            v.addWidget(check)
            if why:
                v.addWidget(meaning := QLabel(why))
                meaning.setWordWrap(True)
                meaning.setObjectName("muted")
        self.authorise_note = QLineEdit()
        self.authorise_note.setPlaceholderText("Authorising note (logged)")
        self.authorise_button = gated_button("Authorise", Permission.AUTHORISE_DEPLOYMENT, "freezes the watchlist")
        self.authorise_button.clicked.connect(lambda: self.act(
            lambda: deployments.authorise(self.live.store, self.actor, self.dep_id, self.authorise_note.text()),
            "Deployment authorised and logged; its watchlist is frozen."))
        v.addWidget(self.authorise_note)  # the note its own line: its words are not cut at 1280 px
        v.addWidget(self.authorise_button)
        v.addStretch(1)
        return box

    def _tick(self, item: str, on: bool) -> None:
        if not on:  # a tick is logged and stays; unticking is not offered
            self.refresh()
            return
        self.act(lambda: deployment_setup.tick(self.live.store, self.actor, self.dep_id, item),
                 "Checklist item ticked and logged.")

    # -- cameras ----------------------------------------------------------------------
    def _camera_box(self) -> QGroupBox:
        box = QGroupBox("Cameras (a credential is stored apart and never shown)")
        h = QHBoxLayout(box)
        v = QVBoxLayout()
        h.addLayout(v, 3)
        self.camera_list = table(["Camera", "Running on", "Credential", "Source"])
        self.camera_list.setSelectionBehavior(self.camera_list.SelectionBehavior.SelectRows)
        v.addWidget(self.camera_list)
        form = QFormLayout()
        self.cam_name, self.cam_source = QLineEdit(), QLineEdit()
        self.cam_source.setPlaceholderText("a video file, rtsp://host/path, http://host/stream.mjpg, or webcam:0")
        self.cam_user, self.cam_password = QLineEdit(), QLineEdit()
        self.cam_password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.cam_name)
        form.addRow("Source", self.cam_source)
        creds = QHBoxLayout()
        creds.addWidget(self.cam_user)
        creds.addWidget(QLabel("Password"))
        creds.addWidget(self.cam_password)
        form.addRow("User", creds)
        v.addLayout(form)
        row = QHBoxLayout()
        self.add_camera_button = QPushButton("Add camera")
        self.add_camera_button.clicked.connect(self._add_camera)
        self.test_camera_button = QPushButton("Test selected camera")
        self.test_camera_button.clicked.connect(self._test_camera)
        row.addWidget(self.add_camera_button)
        row.addWidget(self.test_camera_button)
        v.addLayout(row)
        self.preview = QLabel("Preview: test a camera to see a frame from it")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(360, 203)
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("QLabel { border: 1px solid #555; }")
        h.addWidget(self.preview, 2)
        return box

    def _add_camera(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.dep_id
        name, source, user, password = (self.cam_name.text(), self.cam_source.text(), self.cam_user.text(),
                                        self.cam_password.text())
        self.cam_password.clear()  # never left in its field
        self.act(lambda: cameras.add(store, actor, dep, name, source, user, password) and None,
                 "Camera added and logged (its credential, if any, is stored apart).")

    def _test_camera(self) -> None:
        rows = self.camera_list.selectionModel().selectedRows()
        ids = self.camera_list.property("ids") or []
        if not rows and len(ids) != 1:
            self.say("Select the camera to test.")
            return
        cam = ids[rows[0].row()] if rows else ids[0]
        self.preview.setText("Testing: waiting for a frame...")
        store, actor = self.live.store, self.actor

        def ok(frame) -> None:
            pixmap = QPixmap.fromImage(bgr_to_qimage(frame))  # built here, on the GUI thread
            self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
            self.say(f"Camera test: a frame of {frame.shape[1]}x{frame.shape[0]} received.")

        def failed(exc: Exception) -> None:
            self.preview.setText(f"No picture.\n{exc}")
            self.fail(exc)

        self.jobs.submit(lambda: cameras.test_camera(store, actor, cam), ok, failed)

    # -- reading ----------------------------------------------------------------------
    def _pick(self, dep_id) -> None:
        self.dep_id = dep_id
        self.refresh()

    def refresh(self) -> None:
        store, actor, chosen = self.live.store, self.actor, self.dep_id

        def read():
            listing = new_deployment.listing(store, actor)
            dep = chosen if chosen is not None else (listing[0]["id"] if listing else None)
            if dep is None:
                return listing, None, [], []
            return (listing, dep, deployment_setup.checklist(store, dep),
                    cameras.shown(store, actor, dep) if actor.may(Permission.MANAGE_CAMERAS) else [])

        self.read(read, self._show)

    def _show(self, answer) -> None:
        listing, dep, checks, cams = answer
        self.dep_id = dep
        self.picker.clear()
        for d in listing:
            self.picker.addItem(f"{d['name']} - {d['location']} ({d['state']})", d["id"])
        if dep is not None:
            self.picker.setCurrentIndex(self.picker.findData(dep))
        chosen = next((d for d in listing if d["id"] == dep), None)
        draft = chosen is not None and chosen["state"] == "draft"
        self.state.setText("No deployment yet: create one below." if chosen is None else
                           f"State: {chosen['state'].upper()}; window {chosen['starts_at']} to {chosen['ends_at']}"
                           + (f"; watchlist frozen as {chosen['watchlist_sha256'][:16]}..." if
                              chosen["watchlist_sha256"] else ""))
        for c in checks:
            box = self.checks[c["item"]]
            box.setChecked(c["ticked_by"] is not None)
            box.setEnabled(draft and c["ticked_by"] is None and self.actor.may(Permission.AUTHORISE_DEPLOYMENT))
            box.setToolTip(f"Ticked by {c['ticked_by']} at {c['ticked_at']}" if c["ticked_by"] else "Open")
        self.authorise_button.setEnabled(draft and self.actor.may(Permission.AUTHORISE_DEPLOYMENT))
        fill(self.camera_list, [[c["name"], c["running_on"], c["credential"], c["source"]] for c in cams])
        self.camera_list.setProperty("ids", [c["id"] for c in cams])
        self.entries.show_for(dep, chosen)
        self.officers.show_for(dep, chosen)
