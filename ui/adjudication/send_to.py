"""The confirm step's "Send to" choice: the deployment's team (every officer with a paired handheld,
the default, which needs no key) or one of them (a number key while the confirm question is on
screen: 1 the team, 2 and on the officers in the order listed). With nobody paired it says so
plainly: the dispatch is still recorded, and the officers are radioed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui import theme

TEAM_TEXT = "Team (all paired officers)"
NOBODY_PAIRED = "No officer has a paired handheld: radio the officers"


class SendToChoice(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Send to:"))
        self.combo = QComboBox()
        self.combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keyboard first: the number keys choose
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        row.addWidget(self.combo)
        row.addStretch(1)
        v.addLayout(row)
        self.nobody = QLabel(NOBODY_PAIRED)
        self.nobody.setStyleSheet(f"color: {theme.LOST}; font-weight: bold;")
        self.nobody.setWordWrap(True)
        v.addWidget(self.nobody)
        self.set_team([])

    def set_team(self, team: list[dict]) -> None:
        """The deployment's officers with a live handheld (pairing.officers); the team is chosen again."""
        self.team = list(team)
        self.combo.clear()
        self.combo.addItem(f"1  {TEAM_TEXT}", None)
        for n, officer in enumerate(self.team, start=2):
            self.combo.addItem(f"{n}  {officer['display_name'] or officer['officer']} ({officer['officer']})",
                               officer["officer"])
        self.combo.setCurrentIndex(0)
        self.nobody.setVisible(not self.team)

    def officer(self) -> str | None:
        """The chosen officer's user name; None: the team."""
        return self.combo.currentData()

    def pick(self, number: int) -> bool:
        """A number key in the confirm step: 1 the team, 2.. an officer. False if there is no such choice."""
        if 1 <= number <= self.combo.count():
            self.combo.setCurrentIndex(number - 1)
            return True
        return False

    def keys_hint(self) -> str:
        return f"<b>1</b>-<b>{self.combo.count()}</b> send to" if self.combo.count() > 1 else ""
