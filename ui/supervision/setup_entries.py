"""Watchlist entries in the set-up tab: added, edited and removed one at a time, each with its
photo and every governance field. Once the deployment is authorised its watchlist is frozen: a
change then needs an amendment reason (a supervisor's, logged with the old and new hash)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from console.domain import WatchlistCategory
from console.media import read_image
from console.services.accounts.permissions import Permission, who
from console.services.setup import enrol, watchlist_entries
from ui.supervision.tables import fill, table

CATEGORIES = WatchlistCategory.labels()
TEXT_FIELDS = (("record_number", "Record number"), ("subject_name", "Name"), ("legal_basis", "Legal basis"),
               ("reason", "Reason"), ("image_source", "Photo source"), ("image_date", "Photo date (YYYY-MM-DD)"),
               ("review_date", "Review by (YYYY-MM-DD)"), ("under_18_justification", "Under-18 justification"))


class EntriesBox(QGroupBox):
    def __init__(self, tab) -> None:
        super().__init__("Watchlist entries")
        self.tab = tab
        self.dep_id: int | None = None
        self.rows: list[dict] = []
        h = QHBoxLayout(self)
        v = QVBoxLayout()
        h.addLayout(v, 3)
        self.list = table(["Record", "Name", "Category", "Review by", "Photos"])
        self.list.setSelectionBehavior(self.list.SelectionBehavior.SelectRows)
        self.list.itemSelectionChanged.connect(self._selected)
        v.addWidget(self.list)
        self.frozen = QLabel("")
        self.frozen.setWordWrap(True)
        v.addWidget(self.frozen)
        form = QFormLayout()
        h.addLayout(form, 3)
        self.fields: dict[str, QLineEdit] = {}
        self.category = QComboBox()
        for code, label in CATEGORIES.items():
            self.category.addItem(label, code)
        for key, label in TEXT_FIELDS[:2]:
            form.addRow(label, self._field(key))
        form.addRow("Category", self.category)
        for key, label in TEXT_FIELDS[2:7]:
            form.addRow(label, self._field(key))
        self.under_18 = QCheckBox("Under 18 (needs a supervisor's written justification)")
        form.addRow(self.under_18)
        form.addRow("Justification", self._field("under_18_justification"))
        photo_row = QHBoxLayout()
        self.photo_path = QLineEdit()
        self.photo_path.setPlaceholderText("the subject's photo (one face, sharp, facing the camera)")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        photo_row.addWidget(self.photo_path, 1)
        photo_row.addWidget(browse)
        form.addRow("Photo", photo_row)
        self.amendment = QLineEdit()
        self.amendment.setPlaceholderText("Only after authorisation: the amendment's reason "
                                          f"({who(Permission.AUTHORISE_DEPLOYMENT)}, logged)")
        form.addRow("Amendment", self.amendment)
        self.remove_reason = QLineEdit()
        self.remove_reason.setPlaceholderText("Why the selected entry comes off (logged)")
        form.addRow("Removal reason", self.remove_reason)
        buttons = QHBoxLayout()
        self.add_button, self.save_button, self.remove_button = (QPushButton("Add entry"), QPushButton("Save edit"),
                                                                 QPushButton("Remove entry"))
        self.add_button.clicked.connect(self._add)
        self.save_button.clicked.connect(self._save)
        self.remove_button.clicked.connect(self._remove)
        for b in (self.add_button, self.save_button, self.remove_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.photo = QLabel("No entry selected")
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setFixedSize(220, 270)
        self.photo.setStyleSheet("QLabel { border: 1px solid #555; }")
        h.addWidget(self.photo)

    def _field(self, key: str) -> QLineEdit:
        self.fields[key] = QLineEdit()
        return self.fields[key]

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Subject's photo", "", "Images (*.jpg *.jpeg *.png *.bmp)")
        if path:
            self.photo_path.setText(path)

    def spec(self) -> watchlist_entries.EntrySpec:
        v = {k: w.text().strip() for k, w in self.fields.items()}
        return watchlist_entries.EntrySpec(category=self.category.currentData(), under_18=self.under_18.isChecked(), **v)

    def _add(self) -> None:
        t, spec, path, amendment = self.tab, self.spec(), self.photo_path.text().strip(), self.amendment.text()
        store, actor, engine, dep = t.live.store, t.actor, t.live.engine, self.dep_id

        def work():
            if not path:
                raise enrol.GovernanceError("an entry needs its photo: choose one (Browse...)")
            image = read_image(path)
            enrol.check_photo(engine, image, path)  # a bad photo refused before the entry is written
            with store.transaction():
                entry = enrol.add_entry(store, actor, enrol.watchlist_id(store, dep), spec, amendment)
                result = enrol.enrol_photo(store, engine, actor, entry, image, path.rsplit("/", 1)[-1], amendment)
            return "; ".join(result.warnings) or None

        t.act(work, f"Entry {spec.record_number} added with its photo and logged.")

    def _selected_id(self) -> int | None:
        rows = self.list.selectionModel().selectedRows()
        return self.rows[rows[0].row()]["id"] if rows else None

    def _save(self) -> None:
        entry, t, spec, amendment = self._selected_id(), self.tab, self.spec(), self.amendment.text()
        if entry is None:
            t.say("Select the entry to edit.")
            return
        t.act(lambda: ", ".join(watchlist_entries.edit_entry(t.live.store, t.actor, entry, spec, amendment))
              or "nothing", "Entry saved and logged; changed:")

    def _remove(self) -> None:
        entry, t = self._selected_id(), self.tab
        if entry is None:
            t.say("Select the entry to remove.")
            return
        reason, amendment = self.remove_reason.text(), self.amendment.text()
        t.act(lambda: watchlist_entries.remove_entry(t.live.store, t.actor, entry, reason, amendment),
              "Entry removed and logged (its row is kept, marked removed).")

    def _selected(self) -> None:
        entry = self._selected_id()
        if entry is None:
            return
        row = next(r for r in self.rows if r["id"] == entry)
        for key, w in self.fields.items():
            w.setText(str(row.get(key) or ""))
        self.category.setCurrentIndex(self.category.findData(row["category"]))
        self.under_18.setChecked(bool(row["under_18"]))
        t = self.tab
        self.photo.setText("Loading photo...")
        t.read(lambda: watchlist_entries.photo(t.live.store, t.actor, entry), self._show_photo)

    def _show_photo(self, jpeg: bytes | None) -> None:
        image = QImage.fromData(jpeg or b"", "JPG")
        if image.isNull():
            self.photo.setText("No photo held")
            return
        self.photo.setPixmap(QPixmap.fromImage(image).scaled(self.photo.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))

    def show_for(self, dep_id: int | None, dep: dict | None) -> None:
        self.dep_id = dep_id
        frozen = bool(dep and dep["watchlist_sha256"] and dep["state"] != "draft")
        self.frozen.setText("Frozen at authorisation: a change needs an amendment reason "
                            f"({who(Permission.AUTHORISE_DEPLOYMENT)}, logged with the old and new hash)."
                            if frozen else "")
        if dep_id is None or not self.tab.actor.may(Permission.VIEW_WATCHLIST):
            fill(self.list, [])
            return
        t = self.tab
        t.read(lambda: watchlist_entries.entries(t.live.store, t.actor, dep_id), self._fill)

    def _fill(self, rows: list[dict]) -> None:
        self.rows = rows
        fill(self.list, [[r["record_number"], r["subject_name"], CATEGORIES.get(r["category"], r["category"]),
                          r["review_date"], r["photos"]] for r in rows])
