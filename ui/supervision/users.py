"""The users tab: accounts, their roles and states; an administrator creates, disables, enables,
deletes and gives new passwords; everyone who opens it may change their own password, with the
current one."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from console.domain import Role
from console.services.accounts import auth
from console.services.accounts.permissions import Permission
from ui.feedback import caption, gated_button
from ui.supervision.tables import fill, table
from ui.tool_dialog import ToolTab

ROLES = Role.labels()


def _secret(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setPlaceholderText(placeholder)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def state_of(user: dict) -> str:
    return "deleted" if user.get("deleted_at") else "active" if user["active"] else "disabled"


class UsersTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        self.users = table(["User", "Name", "Role", "State", "Demo", "Locked until"])
        v.addWidget(self.users)
        form = QHBoxLayout()
        self.new_user, self.new_name = QLineEdit(), QLineEdit()
        self.new_password = _secret("password (12+ characters, not a common one)")
        self.new_user.setPlaceholderText("user name")
        self.new_name.setPlaceholderText("full name")
        self.new_role = QComboBox()
        for code, label in ROLES.items():
            self.new_role.addItem(label, code)
        create = gated_button("Create user", Permission.MANAGE_USERS)
        create.clicked.connect(self._create)
        for x in (self.new_user, self.new_name, self.new_role, self.new_password, create):
            form.addWidget(x)
        v.addLayout(form)
        v.addLayout(self._account_row())
        v.addLayout(self._own_password_row())

    def _create(self) -> None:
        """The password leaves its field at once, whatever the answer; the answer names the account."""
        name, full, role = self.new_user.text().strip(), self.new_name.text().strip(), self.new_role.currentData()
        password = self.new_password.text()
        self.new_password.clear()
        store, actor = self.live.store, self.actor

        def done(_user_id) -> None:
            for field in (self.new_user, self.new_name):
                field.clear()
            self.say(f"User {name} ({ROLES.get(role, role)}) created and logged. They sign in with the password "
                     "you gave them; they can change it here.")
            self.refresh()

        self.jobs.submit(lambda: auth.create_user(store, actor, name, full, role, password), done, self.fail)

    def _account_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.target_user = QLineEdit()
        self.target_user.setPlaceholderText("user name")
        self.target_user.textChanged.connect(lambda _t: self._arm_delete(False))
        row.addWidget(self.target_user)
        for text, active in (("Disable", False), ("Enable / unlock", True)):
            b = gated_button(text, Permission.MANAGE_USERS)
            b.clicked.connect(lambda _=False, a=active: self.act(lambda: auth.set_active(
                self.live.store, self.actor, self.target_user.text().strip(), a), "Done and logged."))
            row.addWidget(b)
        self.delete = QPushButton()
        self.delete.clicked.connect(self._delete)
        self._arm_delete(False)
        row.addWidget(self.delete)
        self.reset_password = _secret("new password for them")
        reset = gated_button("Set their password", Permission.MANAGE_USERS)
        reset.clicked.connect(self._reset)
        row.addWidget(self.reset_password)
        row.addWidget(reset)
        return row

    def _own_password_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(f"My password ({self.actor.username}):"))
        self.current_password = _secret("current password")
        self.changed_password = _secret("new password")
        self.changed_again = _secret("new password again")
        change = QPushButton("Change my password")
        change.clicked.connect(self._change_own)
        for x in (self.current_password, self.changed_password, self.changed_again, change):
            row.addWidget(x)
        return row

    def _reset(self) -> None:
        name, password = self.target_user.text().strip(), self.reset_password.text()
        self.reset_password.clear()
        store, actor = self.live.store, self.actor
        self.act(lambda: auth.reset_password(store, actor, name, password),
                 f"New password set for {name} and logged; the account is unlocked.")

    def _arm_delete(self, armed: bool) -> None:
        """Deleting is for good: the first press asks, the second deletes."""
        self.delete_armed = armed
        self.delete.setText("Press again to delete for good" if armed else caption("Delete", Permission.MANAGE_USERS))

    def _delete(self) -> None:
        name = self.target_user.text().strip()
        if not self.delete_armed:
            self._arm_delete(True)
            self.say(f"Delete {name or '(no name)'}? It can never sign in again; its record stays. Press again.")
            return
        self._arm_delete(False)
        self.act(lambda: auth.delete_user(self.live.store, self.actor, name), "Account deleted and logged.")

    def _change_own(self) -> None:
        current, new, again = (f.text() for f in (self.current_password, self.changed_password, self.changed_again))
        for f in (self.current_password, self.changed_password, self.changed_again):
            f.clear()
        if new != again:
            self.say("The two new passwords differ; nothing was changed.")
            return
        store, name = self.live.store, self.actor.username
        self.jobs.submit(lambda: auth.change_password(store, name, current, new),
                         lambda _r: self.say("Your password was changed (logged)."), self.fail)

    def refresh(self) -> None:
        store, actor = self.live.store, self.actor
        self.read(lambda: auth.list_users(store, actor), self._show)

    def _show(self, users: list[dict]) -> None:
        fill(self.users, [[u["username"], u["display_name"], ROLES.get(u["role"], u["role"]), state_of(u),
                           "demo" if u["is_demo"] else "", u["locked_until"] or ""] for u in users])
