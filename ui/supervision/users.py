"""The users tab: accounts and their roles; an administrator creates, deactivates and unlocks."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout

from console.domain import Role
from console.services import auth
from ui.supervision.tables import fill, table
from ui.tool_dialog import ToolTab

ROLES = Role.labels()


class UsersTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        self.users = table(["User", "Name", "Role", "Active", "Demo", "Locked until"])
        v.addWidget(self.users)
        form = QHBoxLayout()
        self.new_user, self.new_name, self.new_password = QLineEdit(), QLineEdit(), QLineEdit()
        self.new_user.setPlaceholderText("user name")
        self.new_name.setPlaceholderText("full name")
        self.new_password.setPlaceholderText("password (10+ characters)")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_role = QComboBox()
        for code, label in ROLES.items():
            self.new_role.addItem(label, code)
        create = QPushButton("Create user (administrator)")
        create.clicked.connect(lambda: self.act(lambda: auth.create_user(
            self.live.store, self.actor, self.new_user.text().strip(), self.new_name.text().strip(),
            self.new_role.currentData(), self.new_password.text()), "User created and logged."))
        for x in (self.new_user, self.new_name, self.new_role, self.new_password, create):
            form.addWidget(x)
        v.addLayout(form)
        row = QHBoxLayout()
        self.target_user = QLineEdit()
        self.target_user.setPlaceholderText("user name")
        row.addWidget(self.target_user)
        for text, active in (("Deactivate", False), ("Activate / unlock", True)):
            b = QPushButton(f"{text} (administrator)")
            b.clicked.connect(lambda _=False, a=active: self.act(lambda: auth.set_active(
                self.live.store, self.actor, self.target_user.text().strip(), a), "Done and logged."))
            row.addWidget(b)
        v.addLayout(row)

    def refresh(self) -> None:
        store, actor = self.live.store, self.actor
        self.read(lambda: auth.list_users(store, actor), self._show)

    def _show(self, users: list[dict]) -> None:
        fill(self.users, [[u["username"], u["display_name"], ROLES.get(u["role"], u["role"]),
                           "yes" if u["active"] else "no", "demo" if u["is_demo"] else "", u["locked_until"] or ""]
                          for u in users])
