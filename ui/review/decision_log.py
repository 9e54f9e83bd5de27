"""The decision log tab: every alert with its latest decision, filtered and loaded a page at a
time; the selected alert's images and history (each viewing logged), its export and the
equality fields of its engagement."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console import labels
from console.domain import Decision, EthnicGroup, RejectReason, Sex, WatchlistCategory
from console.services.accounts.permissions import Permission
from console.services.decisions import adjudication, case_file
from console.services.record import stats
from ui.feedback import gated_button, why_not
from ui.review.images import pixmap
from ui.tool_dialog import ToolTab

PAGE = 200
HEADERS = ("Alert", "Incident", "Stored", "Camera", "Subject", "Record", "Category", "Score", "Escalated", "Decision",
           "Reason", "By", "Took (s)", "Outcome")
KEYS = ("id", "incident_id", "stored_at", "camera", "subject_name", "record_number", "category", "score", "escalated_at",
        "decision", "reason_code", "username", "duration_ms", "outcome")
LABELLED = ("category", "decision", "reason_code", "outcome")


class LogModel(QAbstractTableModel):
    """The decision log, loaded a page at a time as the view scrolls (fetchMore)."""

    def __init__(self, live, jobs, parent=None) -> None:
        super().__init__(parent)
        self.live, self.jobs = live, jobs
        self.rows: list[dict] = []
        self.total = 0
        self.filter = stats.LogFilter(deployment_id=live.deployment_id)
        self._loading = False

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        key = KEYS[index.column()]
        v = self.rows[index.row()][key]
        if v is None:
            return "Undecided" if key == "decision" else ""
        if key == "score":
            return f"{v:.3f}"
        if key == "escalated_at":
            return "escalated"
        if key == "duration_ms":
            return f"{v / 1000:.1f}"
        if key == "stored_at":
            return labels.local_time(v)
        if key in LABELLED:
            return labels.label(key, v)
        return str(v)

    def row_of(self, alert_id: int | None) -> int:
        """The row showing ``alert_id``; -1 when the filtered list does not hold it."""
        return next((i for i, r in enumerate(self.rows) if r["id"] == alert_id), -1)

    def set_filter(self, f: stats.LogFilter, on_error=None) -> None:
        self.filter = f
        self.beginResetModel()
        self.rows, self.total = [], 0
        self.endResetModel()
        store, actor = self.live.store, self.live.operator
        self._loading = True
        self.jobs.submit(lambda: (stats.log_count(store, actor, f), stats.log_page(store, actor, f, 0, PAGE)),
                         self._first_page, on_error)

    def _first_page(self, result) -> None:
        self.total, rows = result
        self._append(rows)

    def _append(self, rows: list[dict]) -> None:
        self._loading = False
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and not self._loading and len(self.rows) < self.total

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: N802
        if self._loading:
            return
        self._loading = True
        store, actor, flt, offset = self.live.store, self.live.operator, self.filter, len(self.rows)
        self.jobs.submit(lambda: stats.log_page(store, actor, flt, offset, PAGE), self._append)


def _choice(anything: str, labels: dict[str, str], width_chars: int = 0) -> QComboBox:
    """A combo box of labels whose item data are the codes ("" for ``anything``); with
    ``width_chars`` it is that wide whatever its longest label (the list still shows them whole)."""
    box = QComboBox()
    if width_chars:
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(width_chars)
    if anything:
        box.addItem(anything, "")
    for code, label in labels.items():
        box.addItem(label, code)
    return box


class DecisionLogTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.f_since, self.f_until, self.f_operator, self.f_text = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.f_since.setPlaceholderText("from YYYY-MM-DD")
        self.f_until.setPlaceholderText("until YYYY-MM-DD")
        self.f_operator.setPlaceholderText("operator")
        self.f_text.setPlaceholderText("search notes, names, records")
        self.f_decision = _choice("any decision", {**Decision.labels(), "undecided": "Undecided"}, 10)
        self.f_reason = _choice("any reason", RejectReason.labels(), 10)
        self.f_category = _choice("any category", WatchlistCategory.labels(), 15)
        self.f_min, self.f_max = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.f_min, 0.0), (self.f_max, 1.0)):
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setValue(value)
        self.f_escalated = QCheckBox("escalated")
        self.f_escalated.setToolTip("Only the alerts an operator escalated to a supervisor")
        go = QPushButton("Filter")
        go.clicked.connect(self.apply_filter)
        for x in (self.f_since, self.f_until, self.f_operator, self.f_decision, self.f_reason, self.f_category,
                  self.f_escalated, QLabel("score"), self.f_min, self.f_max, self.f_text, go):
            bar.addWidget(x)
        v.addLayout(bar)
        self.count = QLabel("")
        self.count.setObjectName("muted")
        v.addWidget(self.count)
        split = QSplitter()
        self.model = LogModel(self.live, self.jobs, self)
        self.model.modelReset.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.model.modelReset.connect(self.clear_detail)  # a new filter: the old alert may be gone
        split.addWidget(self.view)
        split.addWidget(self._detail_pane())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([950, 550])
        v.addWidget(split, 1)
        self._loaded = False
        self.shown_alert: int | None = None
        self.detail = None  # the selected alert's record (its candidates, for a correction)
        self.clear_detail()

    def _detail_pane(self) -> QWidget:
        detail = QWidget()
        dv = QVBoxLayout(detail)
        images = QHBoxLayout()
        self.d_probe, self.d_cand, self.d_context = QLabel(), QLabel(), QLabel()
        for label in (self.d_probe, self.d_cand, self.d_context):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            images.addWidget(label)
        dv.addLayout(images)
        self.history = QListWidget()
        dv.addWidget(self.history)
        export_row = QHBoxLayout()
        self.export_dir = QLineEdit()
        self.export_dir.setPlaceholderText("folder for the case file")
        export = QPushButton("Export alert (bystanders blurred; logged)")
        export.clicked.connect(self.export_alert)
        export_row.addWidget(self.export_dir)
        export_row.addWidget(export)
        dv.addLayout(export_row)
        self.correct_button = gated_button("Correct this decision...", Permission.CORRECT_DECISION)
        self.correct_button.clicked.connect(self.open_correction)
        if not self.actor.may(Permission.CORRECT_DECISION):
            self.correct_button.setEnabled(False)
            self.correct_button.setToolTip(why_not(self.actor, Permission.CORRECT_DECISION))
        dv.addWidget(self.correct_button)
        eq_row = QHBoxLayout()
        # Nothing is recorded until a supervisor picks a value: the fields start at "not recorded".
        self.eq_sex = _choice(labels.NOT_RECORDED, Sex.labels())
        self.eq_group = _choice(labels.NOT_RECORDED, EthnicGroup.labels())
        eq = gated_button("Record", Permission.AUTHORISE_DEPLOYMENT)
        eq.setToolTip("Record the sex and ethnic group of the person engaged, on the alert's engagement outcome "
                      "(equality monitoring; supervisors only; logged)")
        eq.clicked.connect(self.record_equality)
        # Compact, so the decision log beside it keeps its width.
        for x in (QLabel("Equality fields: sex"), self.eq_sex, QLabel("ethnic group"), self.eq_group, eq):
            eq_row.addWidget(x)
        eq_row.addStretch(1)
        dv.addLayout(eq_row)
        return detail

    def refresh(self) -> None:
        """The first showing loads the log; later showings keep the reader's place and filter."""
        if not self._loaded:
            self._loaded = True
            self.apply_filter()

    def apply_filter(self) -> None:
        f = stats.LogFilter(
            deployment_id=self.live.deployment_id,
            since=self.f_since.text().strip(), until=self.f_until.text().strip(),
            operator=self.f_operator.text().strip(),
            decision=self.f_decision.currentData(), reason_code=self.f_reason.currentData(),
            category=self.f_category.currentData(),
            score_min=self.f_min.value() if self.f_min.value() > 0 else None,
            score_max=self.f_max.value() if self.f_max.value() < 1 else None,
            text=self.f_text.text().strip(), escalated=self.f_escalated.isChecked())
        self.model.set_filter(f, self.fail)

    def fit_columns(self) -> None:
        """Each column as wide as its contents (long names and notes within reason)."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for col in range(self.model.columnCount()):
            header.resizeSection(col, min(header.sectionSize(col), 220))

    def showEvent(self, event) -> None:  # noqa: N802 - a log loaded while hidden is fitted when shown
        super().showEvent(event)
        self.fit_columns()

    def _update_count(self, *_a) -> None:
        if self.model.rows and len(self.model.rows) <= PAGE:
            QTimer.singleShot(0, self.fit_columns)  # once the view has taken the new rows in
        self.count.setText(f"{self.model.total:,} alerts match; {len(self.model.rows):,} loaded")

    def _selected(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.rows[index.row()]["id"] if index.isValid() else None

    def record_equality(self) -> None:
        alert_id = self._selected()
        if alert_id is None:
            self.say("Select an engaged alert first.")
            return
        store, actor = self.live.store, self.actor
        sex, group = self.eq_sex.currentData(), self.eq_group.currentData()
        if not sex or not group:
            self.say("Choose both equality fields as recorded at engagement (\"Not stated\" when the person did not "
                     "say); nothing was recorded.")
            return

        def run():
            engagement = stats.latest_engagement(store, actor, alert_id)
            stats.record_demographics(store, actor, engagement, sex, group)

        self.jobs.submit(run, lambda _r: self.say("Equality fields recorded (and logged)."), self.fail)

    def open_correction(self) -> None:
        """The correction screen for the selected row's latest decision (an undecided alert has none)."""
        index = self.view.currentIndex()
        row = self.model.rows[index.row()] if index.isValid() else None
        if row is None or row.get("decision_id") is None:
            self.say("Select a decided alert first: an undecided one has no decision to correct.", "info")
            return
        from ui.review.correction import CorrectionDialog

        candidates = [(c.entry_id, f"{c.rank}. {c.subject_name} ({c.record_number})")
                      for c in (self.detail.candidates if self.detail and self.detail.alert_id == row["id"] else [])]
        self.correction = CorrectionDialog(self.live, self.jobs, row, candidates, self,
                                           on_done=lambda _id: self.apply_filter())
        self.correction.open()

    def export_alert(self) -> None:
        alert_id, folder = self._selected(), self.export_dir.text().strip()
        if alert_id is None or not folder:
            self.say("Select an alert and give a folder.")
            return
        store, actor = self.live.store, self.actor
        engine = getattr(self.live, "engine", None)
        self.jobs.submit(lambda: case_file.export_alert(store, actor, alert_id, folder, engine=engine),
                         lambda files: self.say(f"Exported {len(files)} files to {folder}."), self.fail)

    def clear_detail(self) -> None:
        """The detail pane empties when its alert is no longer in the (filtered) list."""
        self.shown_alert = None
        self.detail = None
        for label in (self.d_probe, self.d_cand, self.d_context):
            label.clear()
        self.d_probe.setText("Select an alert in the list")
        self.history.clear()

    def _show_detail(self, current, _previous) -> None:
        if not current.isValid():
            self.clear_detail()
            return
        alert_id = self.shown_alert = self.model.rows[current.row()]["id"]
        store, actor = self.live.store, self.actor

        def read():
            return (adjudication.alert_detail(store, actor, alert_id, "decision log"),
                    stats.alert_history(store, actor, alert_id))

        def show(pair) -> None:
            d, history = pair
            if self.shown_alert != alert_id:  # another alert was chosen, or the list changed, meanwhile
                return
            self.detail = d
            self.d_probe.setPixmap(pixmap(d.probe_jpeg, 170))
            self.d_cand.setPixmap(pixmap(d.candidates[0].image_jpeg if d.candidates else None, 170))
            self.d_context.setPixmap(pixmap(d.context_jpeg, 220))
            if not d.probe_jpeg:
                self.d_probe.setText("images purged (retention)")
            self.history.clear()
            for h in history:
                self.history.addItem(labels.history_line(h))

        self.jobs.submit(read, show, self.fail)
