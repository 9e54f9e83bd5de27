"""Sign-in, the idle lock and the supervision screens, on the real window."""

import argparse
import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ui.login import LoginDialog


def find_dialog(kind):
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None)


@pytest.fixture
def args(tmp_path):
    """The demo (its own store, its demo accounts), as the README's run command opens it."""
    return argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None, demo=True)


def audit_actions(args, prefix):
    con = sqlite3.connect(args.data_dir / "console.sqlite3")
    try:
        return [r[0] for r in con.execute("SELECT action FROM audit_log WHERE action LIKE ? ORDER BY seq", (prefix + "%",))]
    finally:
        con.close()


def test_sign_in_then_the_deployment_opens_as_that_user(qtbot, console_app, args):
    from ui.app import start_window

    win = start_window(args, cameras=1, quiet=True, login=True)
    qtbot.addWidget(win)
    win.show()
    # The dialog is modal (its own event loop); drive it from a timer-like wait.
    box = {}

    def dialog_up():
        box["d"] = find_dialog(LoginDialog)
        return box["d"] is not None

    try:
        qtbot.waitUntil(dialog_up, timeout=30000)
        d = box["d"]
        d.user.setText("demo.operator")
        d.password.setText("wrong")
        d.submit()
        qtbot.waitUntil(lambda: "wrong user name or password" in d.message.text(), timeout=10000)
        d.password.setText("demo")
        d.submit()
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        assert win.live.operator.username == "demo.operator"
        assert audit_actions(args, "login.") == ["login.failed", "login.succeeded"]
    finally:
        win.shutdown()


def test_security_a_real_store_offers_no_demo_account_and_refuses_one(qtbot, console_app, tmp_path):
    from ui.app import start_window

    real = argparse.Namespace(data_dir=tmp_path / "real", providers="cpu", model_pack=None)
    win = start_window(real, cameras=1, quiet=True, login=True)
    qtbot.addWidget(win)
    win.show()
    box = {}

    def dialog_up():
        box["d"] = find_dialog(LoginDialog)
        return box["d"] is not None

    try:
        qtbot.waitUntil(dialog_up, timeout=30000)
        d = box["d"]
        assert "demo" not in d.hint.lower() and "users bootstrap" in d.hint
        d.user.setText("demo.operator")
        d.password.setText("demo")
        d.submit()
        qtbot.waitUntil(lambda: "wrong user name or password" in d.message.text(), timeout=10000)
        assert win.live is None
        con = sqlite3.connect(real.data_dir / "console.sqlite3")
        try:
            assert con.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0  # no account nobody created
        finally:
            con.close()
    finally:
        win.shutdown()


def test_idle_lock_hides_the_console_until_the_password_is_given(qtbot, console_app, args):
    from ui.app import start_window

    win = start_window(args, cameras=1, quiet=True)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        win.enable_idle_lock(win.live.operator, idle_lock_s=0.5)
        win.session_lock.idle_timer.setInterval(100)
        qtbot.waitUntil(lambda: win.session_lock.locked, timeout=5000)
        assert not win.centralWidget().isVisible()
        dialog = win.session_lock.lock_dialog
        assert dialog.user.text() == "demo.operator" and dialog.user.isReadOnly()
        dialog.password.setText("demo")
        win.session_lock.idle_lock_s = 3600
        dialog.submit()
        qtbot.waitUntil(lambda: not win.session_lock.locked, timeout=10000)
        assert win.centralWidget().isVisible()
        qtbot.waitUntil(lambda: "session.unlocked" in audit_actions(args, "session."), timeout=5000)
        assert audit_actions(args, "session.")[0] == "session.locked"
    finally:
        win.shutdown()


def test_supervision_screen_enforces_roles_as_the_service_does(qtbot, console_app, args):
    from console.services.accounts import session
    from ui.app import start_window
    from ui.supervision import SupervisionDialog

    win = start_window(args, cameras=1, quiet=True)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.live is not None, timeout=60000)
        # As the operator: refused, and the service's words are shown.
        dialog = SupervisionDialog(win.live, win.db_jobs, win)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: "Threshold in force" in dialog.dep_facts.text(), timeout=10000)
        dialog.deployment.threshold.setValue(0.6)
        dialog.deployment.threshold_reason.setText("fewer false alerts")
        button = dialog.deployment.apply_threshold_button  # greyed for the operator, with why on hover
        assert not button.isEnabled() and "Needs a supervisor" in button.toolTip()
        dialog.deployment._change_threshold()  # and the service refuses whatever gets past the screen
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Refused"), timeout=10000)
        assert "may not change threshold" in dialog.message.text()
        # As the supervisor: done, logged, and in force for the running recogniser.
        win.live.operator = session.login(args.data_dir, "demo.supervisor", "demo")
        dialog2 = SupervisionDialog(win.live, win.db_jobs, win)
        qtbot.addWidget(dialog2)
        qtbot.waitUntil(lambda: "Threshold in force" in dialog2.dep_facts.text(), timeout=10000)
        dialog2.deployment.threshold.setValue(0.6)
        dialog2.deployment.threshold_reason.setText("fewer false alerts")
        qtbot.mouseClick(dialog2.deployment.apply_threshold_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog2.message.text().startswith("Threshold changed"), timeout=10000)
        dialog2.close()
        # The live deployment follows the shared log by itself: no reload is asked for.
        qtbot.waitUntil(lambda: win.live.workers[0].recognizer.settings.threshold == pytest.approx(0.6), timeout=10000)
        qtbot.waitUntil(lambda: "Threshold 0.600" in win.status_labels["threshold"].text(), timeout=5000)
        assert "deployment.threshold_changed" in audit_actions(args, "deployment.")
    finally:
        win.shutdown()
