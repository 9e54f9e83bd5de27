"""Shift change and escalation on the real operator window, with the demo deployment's real models
and video: sign out hands over (claims released, logged) and the next user sees what waits; the
idle lock offers "switch user"; closing with incidents waiting asks first; an escalation needs a
note, leaves the operator's queue and arrives highlighted, with a sound, at a supervisor's seat."""

import argparse
import json
import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from console.services.accounts import auth
from console.services.decisions import adjudication
from console.store import open_store, repo
from ui.actions import Act
from ui.alert_delegate import age_state


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
    yield win
    win.shutdown()


def db_rows(win, sql, params=()):
    con = sqlite3.connect(win.db_path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def open_first(qtbot, win) -> int:
    qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=90000)
    win.queue_view.setCurrentIndex(win.alerts.index(0))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.view.mode == "review" and win.view.detail is not None, timeout=10000)
    return win.view.detail.alert_id


def toast_text(widget) -> str:
    toast = getattr(widget, "_toast", None)
    return toast.text() if toast is not None and toast.isVisible() else ""


def second_seat(win):
    """Another seat on the same database (its own connection, as another console has)."""
    return open_store(win.db_path.parent)


def entry_nobody_walks_past(store, deployment_id: int) -> tuple[int, int]:
    """A watchlist entry of the deployment that the demo's video never shows (its photo's embedding
    is a random direction), so that an alert made for it by hand is an incident of its own: a demo
    sighting of a real demo subject would otherwise join it (or it one of theirs), and the card and
    the claim would then belong to an incident the test did not make."""
    import numpy as np

    wl = store.one("SELECT id FROM watchlists WHERE deployment_id = ? ORDER BY id LIMIT 1", (deployment_id,))["id"]
    dim, model = (lambda r: (int(r["embedding_dim"]), r["model_id"]))(store.one(
        "SELECT i.embedding_dim, i.model_id FROM entry_images i JOIN watchlist_entries e ON e.id = i.entry_id"
        " WHERE e.watchlist_id = ? LIMIT 1", (wl,)))
    boss = auth.actor_for(store, "demo.supervisor")
    entry = repo.add_entry(store, wl, repo.EntrySpec("T-1", "Test Subject", "missing_person", "test", "test", "test",
                                                     "2020-01-01", "2030-01-01"), boss.user_id, boss.username)
    direction = np.random.default_rng(7).standard_normal(dim).astype(np.float32)
    image = repo.add_entry_image(store, entry, b"p", direction / np.linalg.norm(direction), model, {}, boss.username)
    return entry, image


def second_operator(win) -> None:
    with second_seat(win) as store:
        auth.create_user(store, auth.actor_for(store, "demo.admin"), "op2", "Second Operator", "operator",
                         "Night-Shift-Keeper-2049")


def test_handover_sign_out_releases_claims_and_the_next_operator_sees_the_pending_alerts(qtbot, window):
    held = open_first(qtbot, window)
    me = window.live.operator
    assert db_rows(window, "SELECT claimed_by FROM alerts WHERE id = ?", (held,))[0][0] == me.user_id
    second_operator(window)
    window.actions_by_name[Act.SIGN_OUT].trigger()
    qtbot.waitUntil(lambda: window.shift.dialog is not None, timeout=10000)
    dialog = window.shift.dialog
    assert not window.centralWidget().isVisible()  # nothing shows while nobody is signed in
    lines = [dialog.findChild(type(window.shift.pending_list)).item(i).text()
             for i in range(window.shift.pending_list.count())]
    assert any("released by you" in line for line in lines) and "released" in window.shift.summary.text()
    assert db_rows(window, "SELECT COUNT(*) FROM alerts WHERE claimed_by = ? AND status = 'pending'",
                   (me.user_id,))[0][0] == 0
    entry = db_rows(window, "SELECT actor, details_json FROM audit_log WHERE action = 'shift.handover'")[-1]
    details = json.loads(entry["details_json"])
    assert entry["actor"] == "demo.operator" and details["claims_released"] >= 1 and details["pending"] >= 1
    dialog.user.setText("op2")
    dialog.password.setText("Night-Shift-Keeper-2049")
    dialog.submit()
    qtbot.waitUntil(lambda: window.live.operator.username == "op2", timeout=15000)
    assert window.centralWidget().isVisible()
    qtbot.waitUntil(lambda: any(held in (r["id"], *r.get("sighting_ids", ())) for r in window.alerts.rows),
                    timeout=10000)
    assert "op2" in window.status_labels["user"].text()
    window.review.open(held)  # the next operator takes it at once: no lease to wait out
    qtbot.waitUntil(lambda: window.view.detail is not None and window.view.detail.alert_id == held, timeout=10000)
    assert db_rows(window, "SELECT claimed_by FROM alerts WHERE id = ?", (held,))[0][0] == window.live.operator.user_id


def test_handover_from_the_idle_lock_switch_user_and_an_admin_is_told_why_enter_does_nothing(qtbot, window):
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    window.enable_idle_lock(window.live.operator)  # as a sign-in does
    window.lock()
    qtbot.waitUntil(lambda: window.session_lock.lock_dialog is not None, timeout=5000)
    window.session_lock.lock_dialog.switch_button.click()
    qtbot.waitUntil(lambda: window.shift.dialog is not None, timeout=10000)
    dialog = window.shift.dialog
    assert "demo.operator signed out" in dialog.layout().itemAt(0).widget().text()
    dialog.user.setText("demo.admin")
    dialog.password.setText("demo")
    dialog.submit()
    qtbot.waitUntil(lambda: window.live.operator.username == "demo.admin", timeout=15000)
    assert window.alerts.rows == [] and "does not see the queue" in window.queue.empty_queue.text()
    restart = window.actions_by_name[Act.RESTART]
    assert not restart.isEnabled() and "Needs a supervisor" in restart.toolTip()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert "does not adjudicate" in toast_text(window.queue)


def test_handover_closing_with_pending_alerts_asks_first(qtbot, window, monkeypatch):
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    asked = []

    def answer(choice):
        def question(parent, title, text, *args):
            asked.append(text)
            return choice
        return question

    window.shift.ask_on_close = True  # as run_gui sets it for the console a person runs
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    assert window.close() is False
    assert window.live is not None and f"{len(window.alerts.rows)} incident(s) are waiting" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Close))
    assert window.close() is True and len(asked) == 2 and window.live is None
    assert db_rows(window, "SELECT COUNT(*) FROM audit_log WHERE action = 'shift.handover'")[0][0] == 1


def test_escalation_needs_a_note_leaves_the_operator_queue_and_reaches_the_supervisor_highlighted(qtbot, window):
    alert = open_first(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.view.mode == "escalate"
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert window.view.mode == "escalate" and "needs a note" in toast_text(window.view)
    window.view.escalate_page.note.setText("the watchlist photo is ten years old")
    qtbot.keyClick(window.view.escalate_page.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: db_rows(window, "SELECT escalated_at FROM alerts WHERE id = ?", (alert,))[0][0]
                    is not None, timeout=10000)
    qtbot.waitUntil(lambda: all(alert not in (r["id"], *r.get("sighting_ids", ())) for r in window.alerts.rows),
                    timeout=10000)  # gone from the operator's queue
    note = db_rows(window, "SELECT details_json FROM alert_events WHERE event = 'escalated'")[0][0]
    assert json.loads(note)["note"] == "the watchlist photo is ten years old"

    store = second_seat(window)
    operator = window.live.operator
    window.shift.switch_to(auth.actor_for(store, "demo.supervisor"))
    qtbot.waitUntil(lambda: bool(window.alerts.rows) and bool(window.alerts.rows[0].get("escalation_note")), timeout=10000)
    top = window.alerts.rows[0]
    assert top["escalated_at"] and top["escalation_note"] == "the watchlist photo is ten years old"
    assert age_state(600, False, True)[1] == "ESCALATED"  # never OVERDUE over ESCALATED

    # Another seat's operator escalates one more: it arrives at the top, with the priority-1 sound.
    dep = window.live.deployment_id
    cam = repo.cameras(store, dep)[0]["id"]
    entry, image = entry_nobody_walks_past(store, dep)
    other = repo.insert_alert(store, repo.AlertRecord(dep, cam, 99999, [(entry, image, 0.9)],
                                                      0.5, "m", [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))
    adjudication.open_alert(store, operator, other)
    played_before = list(window.attention.player.played)
    adjudication.escalate(store, operator, other, "I know this man: not him")
    store.close()
    # The demo keeps recognising: other alerts may sound too; the escalation's is the priority-1 sound.
    qtbot.waitUntil(lambda: 1 in window.attention.player.played[len(played_before):], timeout=10000)
    qtbot.waitUntil(lambda: any(r["id"] == other and r.get("escalation_note") for r in window.alerts.rows),
                    timeout=10000)
    band = [r for r in window.alerts.rows if r.get("escalated_at")]
    assert window.alerts.rows[:len(band)] == band and len(band) >= 2  # the escalated band is at the top
    assert "ESCALATED by demo.operator" in toast_text(window.queue)

    # The supervisor decides it, with a note (required).
    window.review.open(other)

    def shown() -> None:  # asserted, so that a timeout says what the view showed instead
        view, detail = window.view, window.view.detail
        assert detail is not None and detail.alert_id == other and view.prompts.needs_note and view.mode == "review", (
            f"mode {view.mode}, alert {detail.alert_id if detail else None} (wanted {other}), needs note "
            f"{view.prompts.needs_note}, toast {toast_text(view)!r}, note {view.quality_note.text()!r}")

    qtbot.waitUntil(shown, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert window.view.mode == "note"
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert window.view.mode == "note" and "decided with a note" in toast_text(window.view)
    window.view.escalate_page.note.setText("operator knows him; not the subject")
    qtbot.keyClick(window.view.escalate_page.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT reason FROM decisions WHERE alert_id = ?", (other,))),
                    timeout=10000)
    assert db_rows(window, "SELECT reason FROM decisions WHERE alert_id = ?", (other,))[0][0] == \
        "operator knows him; not the subject"


def test_escalation_filter_in_the_decision_log(qtbot, window):
    from ui.review import ReviewWindow

    alert = open_first(qtbot, window)
    window.review.escalate(alert, "check the second candidate")
    qtbot.waitUntil(lambda: db_rows(window, "SELECT escalated_at FROM alerts WHERE id = ?", (alert,))[0][0]
                    is not None, timeout=10000)
    window.live.operator = auth.actor_for(window.live.store, "demo.supervisor")
    log = ReviewWindow(window.live, window.db_jobs, window)
    qtbot.addWidget(log)
    log.show()
    qtbot.waitUntil(lambda: len(log.log_model.rows) >= 1, timeout=10000)
    log.log.f_escalated.setChecked(True)
    log.log.apply_filter()
    qtbot.waitUntil(lambda: log.log_model.total == 1 and len(log.log_model.rows) == 1, timeout=10000)
    assert log.log_model.rows[0]["id"] == alert and log.log_model.rows[0]["escalated_at"]
