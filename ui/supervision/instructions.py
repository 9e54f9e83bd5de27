"""Set up's "Officers' handhelds" page: the Handhelds dialog (pair a phone, revoke one) and what
officers may do for each watchlist category - shown on the handheld beside every dispatched incident,
the defaults filled in until a supervisor replaces them, each change saved with a reason (logged)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.domain import WatchlistCategory
from console.services.accounts.permissions import Permission
from console.services.engage import instructions
from ui.feedback import gated_button
from ui.supervision.handhelds import HandheldsDialog

CATEGORIES = WatchlistCategory.labels()


class OfficersPage(QWidget):
    def __init__(self, tab) -> None:
        super().__init__()
        self.tab = tab
        self.dep_id: int | None = None
        self.dep_name = ""
        self.saved: dict[str, str] = {}
        v = QVBoxLayout(self)
        top = QHBoxLayout()
        intro = QLabel("Engagement officers get each confirmed incident on a paired phone. Pair or revoke their "
                       "phones here; the handheld service runs apart (python main.py engage).")
        intro.setWordWrap(True)
        top.addWidget(intro, 1)
        self.handhelds_button = gated_button("Handhelds", Permission.PAIR_HANDHELD, "pair, revoke", "...")
        self.handhelds_button.clicked.connect(self.open_handhelds)
        top.addWidget(self.handhelds_button)
        v.addLayout(top)
        box = QGroupBox("What officers may do, per watchlist category (shown on the handheld with each incident)")
        bv = QVBoxLayout(box)
        form = QFormLayout()
        self.texts: dict[str, QPlainTextEdit] = {}
        for code, label in CATEGORIES.items():
            edit = self.texts[code] = QPlainTextEdit()
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(86)  # four lines: most instructions show whole
            form.addRow(label, edit)
        area = QScrollArea()  # six categories scroll at 720 px; nothing is cut
        area.setWidgetResizable(True)
        area.setWidget(inner := QWidget())
        inner.setLayout(form)
        bv.addWidget(area, 1)
        row = QHBoxLayout()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why these instructions change (logged)")
        self.save_button = gated_button("Save instructions", Permission.MANAGE_DEPLOYMENT)
        self.save_button.clicked.connect(self._save)
        row.addWidget(self.reason, 1)
        row.addWidget(self.save_button)
        bv.addLayout(row)
        v.addWidget(box, 1)
        self.dialog = None

    def show_for(self, dep_id: int | None, chosen: dict | None) -> None:
        """The deployment picked in Set up: its instructions read again."""
        self.dep_id, self.dep_name = dep_id, (chosen or {}).get("name", "")
        for w in (*self.texts.values(), self.reason):
            w.setEnabled(dep_id is not None)
        if dep_id is None:
            return
        store = self.tab.live.store
        self.tab.read(lambda: instructions.current(store, dep_id), self._show)

    def _show(self, texts: dict[str, str]) -> None:
        self.saved = dict(texts)
        for code, edit in self.texts.items():
            edit.setPlainText(texts.get(code, ""))

    def _save(self) -> None:
        if self.dep_id is None:
            self.tab.say("Create or pick a deployment first.", "refused")
            return
        changed = {c: e.toPlainText() for c, e in self.texts.items()
                   if " ".join(e.toPlainText().split()) != " ".join(self.saved.get(c, "").split())}
        if not changed:
            self.tab.say("No change: the instructions are as saved. Nothing was logged.", "info")
            return
        store, actor, dep, reason = self.tab.live.store, self.tab.actor, self.dep_id, self.reason.text()

        def done(_none) -> None:
            names = ", ".join(CATEGORIES[c] for c in changed)
            self.tab.say(f"Instructions saved and logged ({names}): the handhelds show them from the next incident.")
            self.reason.clear()
            self.show_for(dep, {"name": self.dep_name})

        self.tab.jobs.submit(lambda: instructions.set_instructions(store, actor, dep, changed, reason), done,
                             self.tab.fail)

    def open_handhelds(self) -> None:
        if self.dep_id is None:
            self.tab.say("Create or pick a deployment first.", "refused")
            return
        self.dialog = HandheldsDialog(self.tab.live, self.tab.jobs, self.dep_id, self.dep_name, self)
        self.dialog.open()
