"""The prompt to hand over after a long spell at the seat, on the real operator window with the demo's real
models and video, the wall clock moved forward: it appears after the deployment's period without taking
the keyboard from a decision under way (the keys go on deciding), comes back when put off, is logged with
the answer; the hand-over it offers gives the next user a fresh spell, and a break locks the console and
starts a new spell once the password is given again. The window with the prompt is rendered to a PNG."""

import argparse
import json
import sqlite3
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console import clock
from console.services.accounts import auth
from console.services.decisions import fatigue
from console.store import open_store


@pytest.fixture
def window(qtbot, console_app, tmp_path):
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None)
    win = start_window(args, cameras=1, quiet=True)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.db_path = tmp_path / "data" / "console.sqlite3"
    win.fatigue.every = 1  # read the spell on every status tick, not every 15 s
    yield win
    win.shutdown()


def entries(win, action):
    con = sqlite3.connect(win.db_path)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,)).fetchall()
    finally:
        con.close()
    return [dict(r) | {"details": json.loads(r["details_json"])} for r in rows]


def later(monkeypatch, minutes: float) -> None:
    """Move the wall clock ``minutes`` ahead of the real one."""
    monkeypatch.setattr(clock, "_wall", lambda: time.time() + minutes * 60)


def seated(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.fatigue.spell is not None, timeout=90000)
    assert not win.fatigue.banner.isVisible() and win.fatigue.spell.since == "the seat opened"


def test_the_prompt_shows_after_the_period_without_taking_the_keys_from_a_decision(qtbot, window, monkeypatch,
                                                                                    tmp_path):
    seated(qtbot, window)
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    window.queue_view.setCurrentIndex(window.alerts.index(0))
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.view.mode == "review" and window.view.detail is not None, timeout=10000)
    focused = QApplication.focusWidget()
    later(monkeypatch, 119)
    qtbot.waitUntil(lambda: window.fatigue.spell.seconds() >= 119 * 60, timeout=10000)
    assert not window.fatigue.banner.isVisible()  # not before the period
    later(monkeypatch, 121)
    banner = window.fatigue.banner
    qtbot.waitUntil(banner.isVisible, timeout=10000)
    assert banner.label.text().startswith("You have been at the seat 2 h 0")
    assert "without a break: hand over (Ctrl+Shift+Q) or take a break (Ctrl+Shift+B)" in banner.label.text()
    assert QApplication.focusWidget() is focused and QApplication.activeWindow() is window
    assert window.view.mode == "review" and window.center.currentWidget() is window.view
    window.grab().save(str(tmp_path / "fatigue_prompt.png"))
    assert (tmp_path / "fatigue_prompt.png").stat().st_size > 50_000
    qtbot.keyClick(window, Qt.Key.Key_C)  # the decision goes on under the same keys
    assert window.view.mode == "confirm" and banner.isVisible()
    qtbot.waitUntil(lambda: len(entries(window, fatigue.PROMPTED)) == 1, timeout=5000)
    (shown,) = entries(window, fatigue.PROMPTED)
    assert shown["actor"] == "demo.operator" and shown["details"]["minutes_at_seat"] >= 120
    banner.later.click()
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: [e["details"]["response"] for e in entries(window, fatigue.ANSWERED)] == ["later"],
                    timeout=5000)
    later(monkeypatch, 121 + fatigue.REPEAT_MIN)
    qtbot.waitUntil(banner.isVisible, timeout=10000)  # put off: back after 15 minutes, logged again
    qtbot.waitUntil(lambda: len(entries(window, fatigue.PROMPTED)) == 2, timeout=5000)
    assert "2 h 1" in banner.label.text()
    window.live.stop()  # before the clock returns: that would be a second jump


def test_the_hand_over_it_offers_gives_the_next_user_a_fresh_spell(qtbot, window, monkeypatch):
    seated(qtbot, window)
    with open_store(window.db_path.parent) as store:
        auth.create_user(store, auth.actor_for(store, "demo.admin"), "op2", "Second Operator", "operator",
                         "Night-Shift-Keeper-2049")
    later(monkeypatch, 125)
    qtbot.waitUntil(window.fatigue.banner.isVisible, timeout=10000)
    window.fatigue.banner.hand_over.click()
    qtbot.waitUntil(lambda: window.shift.dialog is not None, timeout=10000)
    assert [e["details"]["response"] for e in entries(window, fatigue.ANSWERED)] == ["hand_over"]
    assert entries(window, "shift.handover")[-1]["actor"] == "demo.operator"
    dialog = window.shift.dialog
    dialog.user.setText("op2")
    dialog.password.setText("Night-Shift-Keeper-2049")
    dialog.submit()
    qtbot.waitUntil(lambda: window.live.operator.username == "op2", timeout=15000)
    qtbot.waitUntil(lambda: window.fatigue.spell is not None and window.fatigue.spell.username == "op2", timeout=10000)
    assert window.fatigue.spell.since == "sign-in" and window.fatigue.spell.seconds() < 60
    assert not window.fatigue.banner.isVisible()
    window.live.stop()


def test_a_break_locks_the_console_and_the_password_starts_a_new_spell(qtbot, window, monkeypatch):
    seated(qtbot, window)
    later(monkeypatch, 130)
    qtbot.waitUntil(window.fatigue.banner.isVisible, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    lock = window.session_lock
    assert lock.locked and not window.centralWidget().isVisible() and not window.fatigue.banner.isVisible()
    assert "demo.operator is on a break" in lock.lock_dialog.layout().itemAt(0).widget().text()
    qtbot.waitUntil(lambda: len(entries(window, fatigue.BREAK_STARTED)) == 1, timeout=5000)
    assert [e["details"]["response"] for e in entries(window, fatigue.ANSWERED)] == ["break"]
    assert entries(window, fatigue.BREAK_STARTED)[0]["details"]["minutes_at_seat"] >= 130
    later(monkeypatch, 150)
    lock.lock_dialog.password.setText("demo")
    lock.lock_dialog.submit()
    qtbot.waitUntil(lambda: not lock.locked, timeout=15000)
    qtbot.waitUntil(lambda: len(entries(window, fatigue.BREAK_ENDED)) == 1, timeout=5000)
    qtbot.waitUntil(lambda: window.fatigue.spell.since == "the end of a break", timeout=10000)
    assert not window.fatigue.spell.due() and not window.fatigue.banner.isVisible()
    assert entries(window, fatigue.BREAK_ENDED)[0]["details"]["break_min"] >= 19
    window.live.stop()
