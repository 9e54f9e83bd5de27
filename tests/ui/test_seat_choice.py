"""The seat picks its deployment at sign-in: a chooser when several are authorised for now, none
when one is, none when one is named with --deployment. Real store, real window, real sign-in."""

import argparse
from datetime import timedelta

import pytest
from PySide6.QtWidgets import QApplication

from console import clock
from console.services.accounts import auth
from console.services.accuracy import calibration
from console.services.runtime import seat_memory
from console.services.setup import deployment_setup, deployments
from console.store import open_store, repo
from ui.login import LoginDialog
from ui.seat_choice import SeatChoiceDialog

PASSWORD = "violet kettle harbour"


def iso(t):
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def find_dialog(kind):
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None)


def make_store(data_dir, names):
    """A real store with an operator and one authorised deployment per name (window open now), and
    one draft that no seat may open."""
    store = open_store(data_dir)
    try:
        admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
        auth.create_user(store, admin, "sup", "Sup", "supervisor", PASSWORD)
        auth.create_user(store, admin, "op", "Op", "operator", PASSWORD)
        sup = auth.actor_for(store, "sup")
        now = clock.now()
        ids = []
        for n, name in enumerate([*names, "Draft only"]):
            spec = repo.DeploymentSpec(name, f"Place {n}", "reason", iso(now - timedelta(hours=1)),
                                       iso(now + timedelta(hours=8)), 0.6, 0.0, calibration.load().model_id,
                                       legal_basis="common law", dpia_ref="DPIA-7", policy_ref="LFR-3")
            dep = deployments.create(store, sup, spec)
            repo.create_watchlist(store, dep, "WL", "sup")
            if name != "Draft only":
                for item in deployment_setup.CHECKLIST:
                    deployment_setup.tick(store, sup, dep, item)
                deployments.authorise(store, sup, dep, "ready")
                ids.append(dep)
        return ids
    finally:
        store.close()


@pytest.fixture
def fast_passwords(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)


def sign_in(qtbot, tmp_path, deployment=None, user="op"):
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None,
                              open_deployment=deployment)
    win = start_window(args, cameras=0, quiet=True, login=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: find_dialog(LoginDialog) is not None, timeout=30000)
    d = find_dialog(LoginDialog)
    d.user.setText(user)
    d.password.setText(PASSWORD)
    d.submit()
    return win


def test_seat_choice_two_authorised_deployments_ask_and_the_second_opens(qtbot, console_app, tmp_path,
                                                                          fast_passwords):
    first, second = make_store(tmp_path / "data", ["Op Market", "Op Station"])
    win = sign_in(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: find_dialog(SeatChoiceDialog) is not None, timeout=20000)
        chooser = find_dialog(SeatChoiceDialog)
        shown = [chooser.table.item(r, 0).text() for r in range(chooser.table.rowCount())]
        assert shown == ["Op Station", "Op Market"]  # newest first; the draft is not offered
        assert chooser.table.item(1, 1).text() == "Place 0" and chooser.table.item(1, 3).text()
        assert win.live is None  # nothing opens before the choice
        chooser.table.selectRow(1)  # the second line: Op Market
        chooser.open_button.click()
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        assert win.live.deployment_id == first and win.live.operator.username == "op"
        qtbot.waitUntil(lambda: seat_memory.last_choice(tmp_path / "data") == first, timeout=5000)
    finally:
        win.shutdown()
    # The next sign-in at this seat preselects the last choice.
    again = sign_in(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: find_dialog(SeatChoiceDialog) is not None, timeout=20000)
        chooser = find_dialog(SeatChoiceDialog)
        assert [i.row() for i in chooser.table.selectionModel().selectedRows()] == [1]
        chooser.reject()
        qtbot.waitUntil(lambda: "No deployment chosen" in again.placeholder.text(), timeout=5000)
        assert again.live is None and second
    finally:
        again.shutdown()


def test_seat_choice_one_authorised_deployment_opens_without_asking(qtbot, console_app, tmp_path, fast_passwords):
    (only,) = make_store(tmp_path / "data", ["Op Market"])
    win = sign_in(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        assert win.live.deployment_id == only
        assert getattr(win, "seat_choice", None) is None and find_dialog(SeatChoiceDialog) is None
    finally:
        win.shutdown()


def test_seat_choice_is_skipped_for_a_deployment_named_on_the_command_line(qtbot, console_app, tmp_path,
                                                                           fast_passwords):
    first, _second = make_store(tmp_path / "data", ["Op Market", "Op Station"])
    win = sign_in(qtbot, tmp_path, deployment=first)
    try:
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        assert win.live.deployment_id == first
        assert getattr(win, "seat_choice", None) is None and find_dialog(SeatChoiceDialog) is None
    finally:
        win.shutdown()


def test_seat_choice_none_authorised_says_so_plainly(qtbot, console_app, tmp_path, fast_passwords):
    make_store(tmp_path / "data", [])
    win = sign_in(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: "No deployment is authorised for this seat now" in win.placeholder.text(),
                        timeout=20000)
        assert win.live is None and "F9 > Set up" in win.seat_message.text()
        assert getattr(win, "seat_setup_button", None) is None  # an operator sets nothing up
        win.seat_message.close()
    finally:
        win.shutdown()


def test_seat_choice_none_authorised_a_supervisor_sets_one_up_there(qtbot, console_app, tmp_path, fast_passwords):
    """No deployment yet: the operator is told; a supervisor gets the set-up screen at that seat with
    no deployment open, and when it closes the seat asks again."""
    from ui.supervision.setup import SetupTab

    make_store(tmp_path / "data", [])
    win = sign_in(qtbot, tmp_path, user="sup")
    try:
        qtbot.waitUntil(lambda: getattr(win, "seat_setup_button", None) is not None, timeout=20000)
        assert "set one up now" in win.seat_message.text()
        win.seat_setup_button.click()
        qtbot.waitUntil(lambda: getattr(win, "setup_tab", None) is not None and win.setup_dialog.isVisible(),
                        timeout=60000)
        assert isinstance(win.setup_tab, SetupTab) and win.live is None
        first_message = win.seat_message
        win.setup_dialog.close()
        qtbot.waitUntil(lambda: win.seat_message is not first_message, timeout=20000)  # asked again
        assert "No deployment is authorised" in win.seat_message.text()
        win.seat_message.close()
    finally:
        win.shutdown()


def test_seat_choice_none_authorised_the_first_administrator_creates_accounts_there(qtbot, console_app, tmp_path,
                                                                                   fast_passwords):
    """A new store: the administrator signs in at a seat with no deployment and creates a supervisor."""
    from ui.supervision.users import UsersTab

    store = open_store(tmp_path / "data")
    auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    store.close()
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None, open_deployment=None)
    win = start_window(args, cameras=0, quiet=True, login=True)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: find_dialog(LoginDialog) is not None, timeout=30000)
        d = find_dialog(LoginDialog)
        d.user.setText("chief")
        d.password.setText("amber lantern over the quay")
        d.submit()
        qtbot.waitUntil(lambda: getattr(win, "seat_users_button", None) is not None, timeout=20000)
        assert getattr(win, "seat_setup_button", None) is None  # an administrator sets no deployment up
        win.seat_users_button.click()
        qtbot.waitUntil(lambda: isinstance(getattr(win, "setup_tab", None), UsersTab), timeout=20000)
        tab = win.setup_tab
        tab.new_user.setText("sue")
        tab.new_name.setText("Sue Supervisor")
        tab.new_role.setCurrentIndex(tab.new_role.findData("supervisor"))
        tab.new_password.setText(PASSWORD)
        tab._create()
        qtbot.waitUntil(lambda: tab.users.rowCount() == 2, timeout=20000)
        win.setup_dialog.close()
    finally:
        win.shutdown()
    check = open_store(tmp_path / "data")
    try:
        assert check.one("SELECT role FROM users WHERE username = 'sue'")["role"] == "supervisor"
    finally:
        check.close()
