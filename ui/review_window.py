"""The supervisor's review window: decision log, dashboard, deployment record and audit,
threshold what-if, and blind review samples. Every query runs as a background job."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain import EthnicGroup, RejectReason, Sex, WatchlistCategory
from console.services import audit_trail, reports, review, stats
from ui import theme
from ui.charts import BarChart
from ui.tool_dialog import ToolDialog

PAGE = 200
HEADERS = ("Alert", "Stored", "Camera", "Subject", "Record", "Category", "Score", "Decision", "Reason", "By",
           "Took (s)", "Outcome")
KEYS = ("id", "stored_at", "camera", "subject_name", "record_number", "category", "score", "decision", "reason_code",
        "username", "duration_ms", "outcome")


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
        v = self.rows[index.row()][KEYS[index.column()]]
        if v is None:
            return "-" if KEYS[index.column()] == "decision" else ""
        if KEYS[index.column()] == "score":
            return f"{v:.3f}"
        if KEYS[index.column()] == "duration_ms":
            return f"{v / 1000:.1f}"
        return str(v)

    def set_filter(self, f: stats.LogFilter) -> None:
        self.filter = f
        self.beginResetModel()
        self.rows, self.total = [], 0
        self.endResetModel()
        live, flt = self.live, f
        self._loading = True
        self.jobs.submit(lambda: (stats.log_count(live.store, live.operator, flt),
                                 stats.log_page(live.store, live.operator, flt, 0, PAGE)),
                         self._first_page)

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
        live, flt, offset = self.live, self.filter, len(self.rows)
        self.jobs.submit(lambda: stats.log_page(live.store, live.operator, flt, offset, PAGE), self._append)


def _image(jpeg: bytes | None, side: int) -> QPixmap:
    if not jpeg:
        return QPixmap()
    return QPixmap.fromImage(QImage.fromData(jpeg, "JPG")).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                                   Qt.TransformationMode.SmoothTransformation)


class ReviewWindow(ToolDialog):
    def __init__(self, live, jobs, parent=None) -> None:
        super().__init__(live, jobs, f"Supervisor review - {live.deployment['name']} - {live.operator.username}",
                         (1500, 900), parent)
        self.add_tabs([(self._log_tab(), "Decision log"), (self._dashboard_tab(), "Dashboard"),
                       (self._record_tab(), "Record, audit, what-if"), (self._sample_tab(), "Blind review")])
        self.apply_filter()
        self.refresh_dashboard()
        self.refresh_record()

    # -- decision log ---------------------------------------------------------------------
    def _log_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        bar = QHBoxLayout()
        self.f_since, self.f_until, self.f_operator, self.f_text = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.f_since.setPlaceholderText("from YYYY-MM-DD")
        self.f_until.setPlaceholderText("until YYYY-MM-DD")
        self.f_operator.setPlaceholderText("operator")
        self.f_text.setPlaceholderText("search notes, names, records")
        self.f_decision = QComboBox()
        self.f_decision.addItems(["any decision", "true_alert", "false_alert", "undecided"])
        self.f_reason = QComboBox()
        self.f_reason.addItems(["any reason", *RejectReason.codes()])
        self.f_category = QComboBox()
        self.f_category.addItems(["any category", *WatchlistCategory.codes()])
        self.f_min, self.f_max = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.f_min, 0.0), (self.f_max, 1.0)):
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setValue(value)
        go = QPushButton("Filter")
        go.clicked.connect(self.apply_filter)
        for x in (self.f_since, self.f_until, self.f_operator, self.f_decision, self.f_reason, self.f_category,
                  QLabel("score"), self.f_min, self.f_max, self.f_text, go):
            bar.addWidget(x)
        v.addLayout(bar)
        self.count = QLabel("")
        self.count.setObjectName("muted")
        v.addWidget(self.count)
        split = QSplitter()
        self.log_model = LogModel(self.live, self.jobs, self)
        self.log_model.modelReset.connect(self._update_count)
        self.log_model.rowsInserted.connect(self._update_count)
        self.log_view = QTableView()
        self.log_view.setModel(self.log_model)
        self.log_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.log_view.verticalHeader().hide()
        self.log_view.selectionModel().currentRowChanged.connect(self._show_detail)
        split.addWidget(self.log_view)
        detail = QWidget()
        dv = QVBoxLayout(detail)
        images = QHBoxLayout()
        self.d_probe, self.d_cand, self.d_context = QLabel(), QLabel(), QLabel()
        for label in (self.d_probe, self.d_cand, self.d_context):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            images.addWidget(label)
        dv.addLayout(images)
        self.d_history = QListWidget()
        dv.addWidget(self.d_history)
        export_row = QHBoxLayout()
        self.export_dir = QLineEdit()
        self.export_dir.setPlaceholderText("folder for the case file")
        export = QPushButton("Export alert (bystanders blurred; logged)")
        export.clicked.connect(self.export_alert)
        export_row.addWidget(self.export_dir)
        export_row.addWidget(export)
        dv.addLayout(export_row)
        eq_row = QHBoxLayout()
        self.eq_sex, self.eq_group = QComboBox(), QComboBox()
        self.eq_sex.addItems(list(Sex.codes()))
        self.eq_group.addItems(list(EthnicGroup.codes()))
        eq = QPushButton("Record equality fields on the engagement (supervisor)")
        eq.clicked.connect(self.record_equality)
        for x in (QLabel("Sex"), self.eq_sex, QLabel("Ethnic group"), self.eq_group, eq):
            eq_row.addWidget(x)
        dv.addLayout(eq_row)
        split.addWidget(detail)
        split.setSizes([900, 600])
        v.addWidget(split, 1)
        return w

    def apply_filter(self) -> None:
        f = stats.LogFilter(
            deployment_id=self.live.deployment_id,
            since=self.f_since.text().strip(), until=self.f_until.text().strip(),
            operator=self.f_operator.text().strip(),
            decision="" if self.f_decision.currentIndex() == 0 else self.f_decision.currentText(),
            reason_code="" if self.f_reason.currentIndex() == 0 else self.f_reason.currentText(),
            category="" if self.f_category.currentIndex() == 0 else self.f_category.currentText(),
            score_min=self.f_min.value() if self.f_min.value() > 0 else None,
            score_max=self.f_max.value() if self.f_max.value() < 1 else None,
            text=self.f_text.text().strip())
        self.log_model.set_filter(f)

    def _update_count(self, *_a) -> None:
        if self.log_model.rows and len(self.log_model.rows) <= PAGE:
            self.log_view.resizeColumnsToContents()
        self.count.setText(f"{self.log_model.total:,} alerts match; {len(self.log_model.rows):,} loaded")

    def record_equality(self) -> None:
        index = self.log_view.currentIndex()
        if not index.isValid():
            self.message.setText("Select an engaged alert first.")
            return
        alert_id = self.log_model.rows[index.row()]["id"]
        live, actor = self.live, self.actor
        sex, group = self.eq_sex.currentText(), self.eq_group.currentText()

        def run():
            engagement = stats.latest_engagement(live.store, actor, alert_id)
            stats.record_demographics(live.store, actor, engagement, sex, group)

        self.jobs.submit(run, lambda _r: (self.message.setText("Equality fields recorded (and logged)."),
                                          self.refresh_dashboard()), self._fail)

    def export_alert(self) -> None:
        index = self.log_view.currentIndex()
        folder = self.export_dir.text().strip()
        if not index.isValid() or not folder:
            self.message.setText("Select an alert and give a folder.")
            return
        alert_id = self.log_model.rows[index.row()]["id"]
        live, actor = self.live, self.actor
        engine = getattr(live, "engine", None)
        self.jobs.submit(lambda: review.export_alert(live.store, actor, alert_id, folder, engine=engine),
                         lambda files: self.message.setText(f"Exported {len(files)} files to {folder}."), self._fail)

    def _show_detail(self, current, _previous) -> None:
        if not current.isValid():
            return
        alert_id = self.log_model.rows[current.row()]["id"]
        live = self.live

        def read():
            return (review.alert_detail(live.store, live.operator, alert_id, "decision log"),
                    stats.alert_history(live.store, live.operator, alert_id))

        def show(pair) -> None:
            d, history = pair
            self.d_probe.setPixmap(_image(d.probe_jpeg, 220))
            self.d_cand.setPixmap(_image(d.candidates[0].image_jpeg if d.candidates else None, 220))
            self.d_context.setPixmap(_image(d.context_jpeg, 300))
            if not d.probe_jpeg:
                self.d_probe.setText("images purged (retention)")
            self.d_history.clear()
            for h in history:
                shown = {k: v for k, v in h["details"].items() if not k.endswith("sha256")}
                self.d_history.addItem(f"{h['at']}  {h['actor']}  {h['action']}  {shown}")

        self.jobs.submit(read, show, self._fail)

    # -- dashboard -----------------------------------------------------------------------
    def _dashboard_tab(self) -> QWidget:
        inner = QWidget()
        g = QGridLayout(inner)
        self.c_hour = BarChart("Alerts per hour")
        self.c_time = BarChart("Time to decision per operator", " s")
        self.c_scores = BarChart("Scores of confirmed and rejected alerts (count per band)")
        self.c_camera = BarChart("False alerts per 1,000 faces, per camera")
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.equality = QLabel("")
        self.equality.setTextFormat(Qt.TextFormat.RichText)
        self.equality.setWordWrap(True)
        g.addWidget(self.summary, 0, 0, 1, 2)
        g.addWidget(self.c_hour, 1, 0)
        g.addWidget(self.c_time, 1, 1)
        g.addWidget(self.c_scores, 2, 0)
        g.addWidget(self.c_camera, 2, 1)
        g.addWidget(self.equality, 3, 0, 1, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    def refresh_dashboard(self) -> None:
        live = self.live
        self.jobs.submit(lambda: stats.dashboard(live.store, live.operator, live.deployment_id), self._show_dashboard, self._fail)

    def _show_dashboard(self, d: dict) -> None:
        def pct(x):
            return "n/a" if x is None else f"{100 * x:.1f} %"

        self.summary.setText(
            f"<b>{d['alerts']}</b> alerts, <b>{d['decided']}</b> decided: confirmed {pct(d['confirm_rate'])}, rejected "
            f"{pct(d['reject_rate'])}; <b>{d['faces_analysed']:,}</b> faces analysed; false alerts per 1,000 faces: "
            f"<b>{d['false_alerts_per_1000_faces'] if d['false_alerts_per_1000_faces'] is not None else 'n/a'}</b>; "
            f"reject reasons: {d['reject_reasons'] or 'none'}")
        self.c_hour.set_data([(h[11:16], [n]) for h, n in d["alerts_per_hour"][-24:]])
        self.c_time.set_data([(op, [(v["median"] or 0) / 1000, (v["p90"] or 0) / 1000])
                              for op, v in d["time_to_decision_ms"].items()],
                             [("median", theme.ACCENT), ("90th percentile", theme.MATCH)])
        bands = [(f"{lo:.1f}-{lo + 0.1:.1f}", lo) for lo in [x / 10 for x in range(3, 10)]]
        self.c_scores.set_data([(name, [sum(lo <= s < lo + 0.1 for s in d["scores_confirmed"]),
                                        sum(lo <= s < lo + 0.1 for s in d["scores_rejected"])]) for name, lo in bands],
                               [("confirmed", theme.CONFIRM), ("rejected", theme.REJECT)])
        self.c_camera.set_data([(name, [c["false_per_1000_faces"]]) for name, c in d["per_camera"].items()])
        e = d["equality"]
        rows = "".join(f"<tr><td>{dim}</td><td>{g}</td><td>{v['engaged']}</td><td>{v['false_at_engagement']}</td>"
                       f"<td>{v['rate']:.3f}</td><td>{'too few to compare' if v['too_few_to_compare'] else ''}</td></tr>"
                       for dim in ("sex", "ethnic_group") for g, v in sorted(e[dim].items()))
        self.equality.setText(
            f"<b>Equality monitoring</b> - false alerts at engagement by recorded group "
            f"({e['engagements_with_demographics']} engagements have supervisor-recorded fields)<br>"
            f"<table cellpadding='4'><tr><th>field</th><th>group</th><th>engaged</th><th>false</th><th>rate</th>"
            f"<th></th></tr>{rows or '<tr><td colspan=6>No demographic fields recorded.</td></tr>'}</table>")

    # -- record, audit, what-if ------------------------------------------------------------
    def _record_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.record = QLabel("")
        self.record.setTextFormat(Qt.TextFormat.RichText)
        self.record.setWordWrap(True)
        v.addWidget(self.record)
        row = QHBoxLayout()
        self.export_path = QLineEdit()
        self.export_path.setPlaceholderText("file to write: .pdf, .csv or .json")
        export = QPushButton("Export record")
        export.clicked.connect(lambda: self.export_record(self.export_path.text().strip()))
        sign = QPushButton("Sign off the record (supervisor)")
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
        v.addStretch(1)
        return w

    def refresh_record(self) -> None:
        live = self.live
        self.jobs.submit(lambda: reports.deployment_record(live.store, live.operator, live.deployment_id), self._show_record,
                         self._fail)
        self.what_if()

    def _show_record(self, r: dict) -> None:
        signed = ", ".join(f"{s['username']} at {s['signed_at']}" for s in r["signed_off"]) or "not signed off"
        self.record.setText(
            f"<b>{r['name']}</b> - {r['place']}, {r['start']} to {r['end']} ({r['duration_hours']} h)<br>"
            f"watchlist {r['watchlist_size']} · faces analysed {r['faces_analysed']:,} · alerts {r['alerts']} · "
            f"true {r['true_alerts']} · false {r['false_alerts']} · undecided {r['undecided_alerts']} · "
            f"false per 1,000 faces {r['false_alerts_per_1000_faces']} · arrests {r['arrests']}<br>"
            f"Engagements: {r['engagements'] or 'none'}<br>Sign-off: {signed}")

    def export_record(self, path: str) -> None:
        live, actor = self.live, self.actor
        if not path:
            self.message.setText("Give a file name ending in .pdf, .csv or .json.")
            return
        self.jobs.submit(lambda: reports.export_record(live.store, actor, live.deployment_id, path),
                         lambda out: self.message.setText(f"Wrote {out} (the export is in the audit log)."), self._fail)

    def sign_off(self) -> None:
        live, actor = self.live, self.actor
        self.jobs.submit(lambda: reports.sign_off(live.store, actor, live.deployment_id, "signed in the console"),
                         lambda digest: (self.message.setText(f"Signed off; record digest {digest[:16]}..."),
                                         self.refresh_record()), self._fail)

    def verify_audit(self) -> None:
        live = self.live

        def run():
            return audit_trail.verify(live.store, self.actor)

        def show(result) -> None:
            text = "<br>".join(result.lines())
            colour = theme.FACE if result.ok else theme.LOST
            mark = "✓" if result.ok else "✗"
            self.audit_result.setText(f"<span style='color:{colour}'><b>{mark}</b></span> {text}")

        self.jobs.submit(run, show, self._fail)

    def what_if(self, *_a) -> None:
        live, t = self.live, self.what_if_value.value()

        def show(w: dict) -> None:
            self.what_if_result.setText(
                f"At {w['threshold_asked']:.3f} (in force {w['threshold_in_force']:.3f}): of the past alerts, "
                f"{w['past_alerts_kept']} would still be raised ({w['kept']}) and {w['past_alerts_suppressed']} "
                f"not ({w['suppressed']}). Faces scoring at or above it: {w['faces_at_or_above_asked']} "
                f"(at the threshold in force: {w['faces_at_or_above_in_force']}). {w['note']}.")

        self.jobs.submit(lambda: reports.threshold_what_if(live.store, live.operator, live.deployment_id, t), show, self._fail)

    # -- blind review ---------------------------------------------------------------------
    def _sample_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        row = QHBoxLayout()
        self.sample_size = QSpinBox()
        self.sample_size.setRange(1, 200)
        self.sample_size.setValue(10)
        draw = QPushButton("Draw a random sample of decided alerts")
        draw.clicked.connect(self.draw_sample)
        row.addWidget(QLabel("Sample size"))
        row.addWidget(self.sample_size)
        row.addWidget(draw)
        row.addStretch(1)
        v.addLayout(row)
        images = QHBoxLayout()
        self.s_probe, self.s_cand = QLabel(), QLabel()
        for label in (self.s_probe, self.s_cand):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumSize(280, 280)
            images.addWidget(label)
        v.addLayout(images)
        buttons = QHBoxLayout()
        self.same = QPushButton("Same person")
        self.different = QPushButton("Different person")
        self.same.clicked.connect(lambda: self.blind_decide("true_alert"))
        self.different.clicked.connect(lambda: self.blind_decide("false_alert"))
        buttons.addWidget(self.same)
        buttons.addWidget(self.different)
        v.addLayout(buttons)
        self.sample_status = QLabel("The original decision is hidden until the sample is done.")
        self.sample_status.setObjectName("muted")
        v.addWidget(self.sample_status)
        v.addStretch(1)
        self.sample = None
        self.pending: list[dict] = []
        return w

    def draw_sample(self) -> None:
        live, actor, n = self.live, self.actor, self.sample_size.value()

        def run():
            name = reports.draw_sample(live.store, actor, live.deployment_id, n)
            items = []
            for row in reports.blind_view(live.store, actor, name):
                items.append({"alert_id": row["alert_id"], "probe": row["probe_jpeg"],
                              "candidate": row["candidate_jpeg"]})
            return name, items

        self.jobs.submit(run, self._start_sample, self._fail)

    def _start_sample(self, pair) -> None:
        self.sample, self.pending = pair
        self._next_blind()

    def _next_blind(self) -> None:
        if not self.pending:
            live, sample = self.live, self.sample
            self.s_probe.clear()
            self.s_cand.clear()
            self.jobs.submit(lambda: reports.sample_agreement(live.store, live.operator, sample),
                             lambda a: self.sample_status.setText(
                                 f"Sample done: {a['agreed']} of {a['decided']} blind decisions agree with the "
                                 f"original ({a['agreement_rate']})."))
            return
        item = self.pending[0]
        self.s_probe.setPixmap(_image(item["probe"], 280))
        self.s_cand.setPixmap(_image(item["candidate"], 280))
        self.sample_status.setText(f"{len(self.pending)} left in this sample. Decide without the original decision.")

    def blind_decide(self, decision: str) -> None:
        if not self.pending:
            return
        item = self.pending.pop(0)
        live, actor, sample = self.live, self.actor, self.sample
        self.jobs.submit(lambda: reports.blind_decide(live.store, actor, sample, item["alert_id"], decision),
                         lambda _r: self._next_blind(), self._fail)
