"""Supervisor and administrator screens: the deployment, its watchlist, users, retention.

Every button calls a service as the signed-in user, in a background job; the service decides
whether that user may do it, and its refusal is shown as it is worded.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain import Role
from console.errors import PermissionDenied
from console.services import auth, deployments, enrol, retention
from ui.tool_dialog import ToolDialog


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(table: QTableWidget, rows: list[list]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
    table.resizeColumnsToContents()


class SupervisionDialog(ToolDialog):
    def __init__(self, live, jobs, parent=None) -> None:
        super().__init__(live, jobs, f"Supervision - signed in as {live.operator.username} ({live.operator.role})",
                         (1100, 680), parent)
        self.add_tabs([(self._deployment_tab(), "Deployment"), (self._watchlist_tab(), "Watchlist"),
                       (self._users_tab(), "Users"), (self._retention_tab(), "Retention")])
        self.refresh()

    # -- plumbing ------------------------------------------------------------------------
    def _run(self, fn, done_text: str) -> None:
        def ok(result) -> None:
            self.message.setText(done_text if result is None else f"{done_text} {result}")
            self.refresh()

        self.jobs.submit(fn, ok, self._fail)

    def refresh(self) -> None:
        live = self.live
        dep_id = live.deployment_id

        def read():
            s, actor = live.store, self.actor

            def allowed(read):
                try:
                    return read()
                except PermissionDenied:
                    return []

            return {
                "dep": dict(deployments.get(s, dep_id)),
                "entries": allowed(lambda: enrol.watchlist_entries(s, actor, dep_id)),
                "users": allowed(lambda: auth.list_users(s, actor)),
                "retention": retention.settings(s),
                "purges": allowed(lambda: retention.recent_purges(s, actor)),
            }

        self.jobs.submit(read, self._show)

    def _show(self, data: dict) -> None:
        d = data["dep"]
        self.dep_facts.setText(
            f"<b>{d['name']}</b> - {d['location']}<br><b>Why here:</b> {d['rationale']}<br>"
            f"<b>Legal basis:</b> {d['legal_basis']} &nbsp; <b>DPIA:</b> {d['dpia_ref']} &nbsp; "
            f"<b>Policy:</b> {d['policy_ref']}<br><b>Window:</b> {d['starts_at']} to {d['ends_at']} &nbsp; "
            f"<b>State:</b> {d['state'].upper()}<br><b>Threshold in force:</b> {d['threshold']:.3f} "
            f"(floor {d['threshold_floor']:.3f}) &nbsp; <b>Two-person rule:</b> {'on' if d['two_person_rule'] else 'off'}")
        self.threshold.setMinimum(d["threshold_floor"])
        self.threshold.setValue(d["threshold"])
        self.two_person.setChecked(bool(d["two_person_rule"]))
        _fill(self.entries, [[e["record_number"], e["subject_name"], e["category"], e["legal_basis"],
                              e["image_source"], e["image_date"], e["review_date"], "yes" if e["under_18"] else "",
                              e["photos"]] for e in data["entries"]])
        _fill(self.users, [[u["username"], u["display_name"], u["role"], "yes" if u["active"] else "no",
                            "demo" if u["is_demo"] else "", u["locked_until"] or ""] for u in data["users"]])
        days, hours = data["retention"]
        self.days.setValue(days)
        self.hours.setValue(hours)
        _fill(self.purges, [[p["ran_at"], p["rule"], p["items"]] for p in data["purges"]])

    # -- tabs ----------------------------------------------------------------------------
    def _deployment_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.dep_facts = QLabel("")
        self.dep_facts.setTextFormat(Qt.TextFormat.RichText)
        self.dep_facts.setWordWrap(True)
        v.addWidget(self.dep_facts)
        form = QFormLayout()
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.01)
        self.threshold.setMaximum(0.99)
        self.threshold_reason = QLineEdit()
        self.threshold_reason.setPlaceholderText("Reason for the change (required, logged)")
        apply = self.apply_threshold_button = QPushButton("Change threshold (supervisor)")
        apply.clicked.connect(lambda: self._run(lambda: deployments.change_threshold(
            self.live.store, self.actor, self.live.deployment_id, self.threshold.value(),
            self.threshold_reason.text()), "Threshold changed and logged; it applies to new recognition."))
        form.addRow("Threshold", self.threshold)
        form.addRow("Reason", self.threshold_reason)
        form.addRow("", apply)
        self.two_person = QCheckBox("Two-person rule: a confirm goes to engagement only after a second user confirms")
        self.two_person_reason = QLineEdit()
        self.two_person_reason.setPlaceholderText("Reason (required, logged)")
        set_rule = QPushButton("Apply two-person rule setting")
        set_rule.clicked.connect(lambda: self._run(lambda: deployments.set_two_person_rule(
            self.live.store, self.actor, self.live.deployment_id, self.two_person.isChecked(),
            self.two_person_reason.text()), "Two-person rule updated and logged."))
        form.addRow(self.two_person)
        form.addRow("Reason", self.two_person_reason)
        form.addRow("", set_rule)
        end = QPushButton("End this deployment now (supervisor)")
        end.clicked.connect(lambda: self._run(lambda: deployments.end(
            self.live.store, self.actor, self.live.deployment_id, "ended by supervisor"),
            "Deployment ended: it is read-only and its watchlist will be purged."))
        form.addRow("", end)
        v.addLayout(form)
        v.addStretch(1)
        return w

    def _watchlist_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.entries = _table(["Record", "Name", "Category", "Legal basis", "Photo source", "Photo date",
                               "Review by", "Under 18", "Photos"])
        v.addWidget(self.entries)
        row = QHBoxLayout()
        imp = QPushButton("Import entries from CSV... (supervisor)")
        imp.clicked.connect(self._import_csv)
        row.addWidget(imp)
        row.addWidget(QLabel("Columns: " + ", ".join(enrol.CSV_COLUMNS) + " (image = path beside the CSV)"))
        v.addLayout(row)
        return w

    def _import_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Watchlist CSV", "", "CSV files (*.csv)")
        if not path:
            return
        live = self.live

        def work():
            result = enrol.import_csv_for_deployment(live.store, live.engine, self.actor, live.deployment_id, path)
            return f"{result['added']} added; refused: {result['refused'] or 'none'}; warnings: {result['warnings'] or 'none'}"

        self._run(work, "Import finished:")

    def _users_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.users = _table(["User", "Name", "Role", "Active", "Demo", "Locked until"])
        v.addWidget(self.users)
        form = QHBoxLayout()
        self.new_user, self.new_name, self.new_password = QLineEdit(), QLineEdit(), QLineEdit()
        self.new_user.setPlaceholderText("user name")
        self.new_name.setPlaceholderText("full name")
        self.new_password.setPlaceholderText("password (10+ characters)")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_role = QComboBox()
        self.new_role.addItems(list(Role.codes()))
        create = QPushButton("Create user (administrator)")
        create.clicked.connect(lambda: self._run(lambda: auth.create_user(
            self.live.store, self.actor, self.new_user.text().strip(), self.new_name.text().strip(),
            self.new_role.currentText(), self.new_password.text()), "User created and logged."))
        for x in (self.new_user, self.new_name, self.new_role, self.new_password, create):
            form.addWidget(x)
        v.addLayout(form)
        row = QHBoxLayout()
        self.target_user = QLineEdit()
        self.target_user.setPlaceholderText("user name")
        for text, active in (("Deactivate", False), ("Activate / unlock", True)):
            b = QPushButton(f"{text} (administrator)")
            b.clicked.connect(lambda _=False, a=active: self._run(lambda: auth.set_active(
                self.live.store, self.actor, self.target_user.text().strip(), a), "Done and logged."))
            row.addWidget(b)
        row.insertWidget(0, self.target_user)
        v.addLayout(row)
        return w

    def _retention_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        form = QFormLayout()
        self.days, self.hours = QSpinBox(), QSpinBox()
        self.days.setRange(1, 31)
        self.hours.setRange(0, 24)
        self.retention_reason = QLineEdit()
        self.retention_reason.setPlaceholderText("Reason (required, logged)")
        form.addRow("Keep alert images (days)", self.days)
        form.addRow("Purge a watchlist this many hours after its deployment ends", self.hours)
        form.addRow("Reason", self.retention_reason)
        save = QPushButton("Save retention settings (administrator)")
        save.clicked.connect(lambda: self._run(lambda: retention.configure(
            self.live.store, self.actor, self.days.value(), self.hours.value(), self.retention_reason.text()),
            "Retention settings saved and logged."))
        form.addRow("", save)
        now = QPushButton("Run due purges now")
        now.clicked.connect(lambda: self._run(lambda: self._purge(), "Purge run:"))
        form.addRow("", now)
        v.addLayout(form)
        self.purges = _table(["Ran at", "Rule", "Items"])
        v.addWidget(self.purges)
        return w

    def _purge(self) -> str:
        return retention.run_purges_now(self.live.store, self.actor).summary()
