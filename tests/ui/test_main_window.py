"""The real operator window under pytest-qt, on the demo deployment with the real models."""

import argparse
import sqlite3

import pytest
from PySide6.QtCore import Qt


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


def first_alert(qtbot, win):
    qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=90000)
    return win.alerts.rows[0]


def open_with_keyboard(qtbot, win):
    row = first_alert(qtbot, win)
    win.queue_view.setCurrentIndex(win.alerts.index(0))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.view.mode == "review" and win.view.detail is not None, timeout=10000)
    assert win.center.currentWidget() is win.view
    return row


def test_window_opens_on_the_demo_and_paints_real_detections(qtbot, window):
    qtbot.waitUntil(lambda: len(window.tiles) == 1, timeout=60000)
    tile = window.tiles[0]
    qtbot.waitUntil(lambda: tile.image is not None and len(tile.faces) > 0, timeout=60000)
    assert tile.state == "live"
    box = tile.faces[0].box
    assert box[2] > box[0] and box[3] > box[1]
    assert window.banner.text().startswith("DEMO")
    op = window.live.operating_point()  # the demo's 2 photos: the calibrated floor, above the 1:1 0.363
    assert op.calibrated and op.photos == 2 and op.threshold == op.floor > 0.363
    assert f"Threshold {op.floor:.3f}" in window.status_labels["threshold"].text()
    assert "false per 100k faces" in window.status_labels["threshold"].text()
    assert window.status_labels["window"].text().startswith("Window:")
    pix = tile.grab().toImage()
    samples = {pix.pixel(x, y) for x in range(0, pix.width(), 37) for y in range(0, pix.height(), 29)}
    assert len(samples) > 20


def test_an_alert_from_the_pipeline_appears_in_the_queue(qtbot, window):
    row = first_alert(qtbot, window)
    assert row["subject_name"].startswith("Demo subject")
    assert row["score"] >= row["threshold"]
    assert row["probe_thumb"] is not None and row["candidate_thumb"] is not None
    assert "Pending incidents: " in window.status_labels["pending"].text()


def test_keyboard_confirm_stores_the_decision_and_its_audit_entry(qtbot, window):
    row = open_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.view.mode == "confirm"  # C only asks, naming the person
    top = window.view.detail.candidates[0]
    assert f"Confirm: {top.subject_name}, {top.record_number}, score {top.score:.2f}?" in window.view.confirm_text.text()
    assert not db_rows(window, "SELECT id FROM decisions")
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM decisions WHERE alert_id = ?", (row["id"],))),
                    timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_Return)  # a doubled Enter decides nothing more
    qtbot.waitUntil(lambda: window.view.mode == "outcome", timeout=5000)
    decision = db_rows(window, "SELECT * FROM decisions WHERE alert_id = ?", (row["id"],))
    assert len(decision) == 1 and decision[0]["decision"] == "true_alert"
    assert decision[0]["duration_ms"] is not None
    def entries():
        return [e["action"] for e in db_rows(window, "SELECT action FROM audit_log WHERE subject_type = 'alert'"
                                                     " AND subject_id = ? ORDER BY seq", (str(row["id"]),))]

    qtbot.waitUntil(lambda: "dispatch.sent" in entries(), timeout=5000)  # sent to the team after the decision
    assert entries() == ["alert.raised", "alert.opened", "decision.recorded", "dispatch.sent"]
    assert window.alerts.row_of(row["id"]) == -1
    # Outcome by keys: 1 = confirmed true, 4 = arrest, Enter records.
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_4)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM engagements WHERE alert_id = ?", (row["id"],))),
                    timeout=10000)


def test_a_reject_without_a_reason_cannot_be_recorded(qtbot, window):
    row = open_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.view.mode == "reject"
    with qtbot.assertNotEmitted(window.view.rejectRequested, wait=300):
        qtbot.keyClick(window, Qt.Key.Key_Return)
    assert window.view.mode == "reject" and not window.view.btn_reject_commit.isEnabled()
    assert not db_rows(window, "SELECT id FROM decisions")
    qtbot.keyClick(window, Qt.Key.Key_1)  # different person
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM decisions WHERE alert_id = ?", (row["id"],))),
                    timeout=10000)
    decision = db_rows(window, "SELECT * FROM decisions WHERE alert_id = ?", (row["id"],))[0]
    assert decision["decision"] == "false_alert" and decision["reason_code"] == "different_person"
    suppression = db_rows(window, "SELECT * FROM suppressions")[0]
    recognizer = window.live.workers[0].recognizer
    qtbot.waitUntil(lambda: (suppression["track_id"], suppression["entry_id"]) in recognizer.suppressed, timeout=5000)


def test_escape_returns_the_alert_to_the_queue_undecided(qtbot, window):
    row = open_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.center.currentWidget() is window.grid_host, timeout=5000)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM alert_events WHERE event = 'returned'")),
                    timeout=5000)
    assert window.alerts.row_of(row["id"]) >= 0
    assert not db_rows(window, "SELECT id FROM decisions")


def test_closing_the_window_stops_every_camera_thread(qtbot, window):
    qtbot.waitUntil(lambda: window.live is not None, timeout=60000)
    workers = list(window.live.workers)
    window.close()
    assert all(not (w._thread and w._thread.is_alive()) for w in workers)


def test_under_the_two_person_rule_a_keyboard_confirm_is_only_the_first(qtbot, window):
    from console.services.accounts import auth
    from console.services.setup import deployments
    from console.store import open_store

    qtbot.waitUntil(lambda: window.live is not None, timeout=60000)
    with open_store(window.db_path.parent) as store:  # a second connection, as a second console would
        deployments.set_two_person_rule(store, auth.actor_for(store, "demo.supervisor"), window.live.deployment_id,
                                        True, "force policy for this test")
    row = open_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_C)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT first_confirmed_by FROM alerts WHERE id = ? AND"
                                                 " first_confirmed_by IS NOT NULL", (row["id"],))), timeout=10000)
    assert not db_rows(window, "SELECT id FROM decisions")
    assert window.alerts.row_of(row["id"]) >= 0  # still waiting, for a second user


def test_another_seats_claim_and_decision_reach_this_console(qtbot, window):
    from console.services.accounts import auth
    from console.services.decisions import adjudication
    from console.store import open_store

    row = first_alert(qtbot, window)
    with open_store(window.db_path.parent) as store:  # a second seat on the same database
        if repo_user_missing(store, "seat2"):
            auth.ensure_demo_user(store, "demo.seat2", "Second seat", "operator")
        other = auth.actor_for(store, "demo.seat2")
        adjudication.open_alert(store, other, row["id"])
        qtbot.waitUntil(lambda: window.alerts.rows[window.alerts.row_of(row["id"])].get("taken_by") == "demo.seat2",
                        timeout=5000)
        adjudication.reject(store, other, row["id"], "look_alike")
    qtbot.waitUntil(lambda: window.alerts.row_of(row["id"]) == -1, timeout=5000)


def repo_user_missing(store, name):
    from console.store import repo

    return repo.get_user(store, f"demo.{name}") is None


def test_a_locked_database_refuses_a_decision_clearly_and_the_console_keeps_running(qtbot, window, tmp_path):
    import time

    from PySide6.QtCore import QTimer

    from tests.factories import OtherProcessLock

    row = open_with_keyboard(qtbot, window)
    lock = OtherProcessLock(window.db_path)
    lock.on()
    try:
        ticks: list[float] = []
        beat = QTimer()
        beat.timeout.connect(lambda: ticks.append(time.monotonic()))
        beat.start(50)
        qtbot.keyClick(window, Qt.Key.Key_R)
        qtbot.keyClick(window, Qt.Key.Key_1)
        qtbot.keyClick(window, Qt.Key.Key_Return)
        # The database waits its busy time out on the job thread; the GUI thread never waits with it.
        qtbot.waitUntil(lambda: "locked by another program" in window.view.quality_note.text(), timeout=15000)
        beat.stop()
        assert "nothing was written" in window.view.quality_note.text()
        assert window.view.mode == "review" and window.view.detail.alert_id == row["id"]
        assert len(ticks) > 40 and max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) < 0.5
        assert not db_rows(window, "SELECT id FROM decisions")
    finally:
        lock.off()
    qtbot.keyClick(window, Qt.Key.Key_R)  # the operator tries again: now it is recorded, once
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM decisions WHERE alert_id = ?", (row["id"],))),
                    timeout=10000)
    assert len(db_rows(window, "SELECT id FROM decisions")) == 1


def test_a_clock_set_back_shows_on_screen_and_in_the_log(qtbot, window, monkeypatch):
    import time

    from console import clock

    qtbot.waitUntil(lambda: window.live is not None, timeout=60000)
    assert window.problem_banner.isHidden()
    monkeypatch.setattr(clock, "_wall", lambda: time.time() - 3600)
    qtbot.waitUntil(lambda: window.problem_banner.isVisible(), timeout=10000)
    assert "jumped back by 3600 s" in window.problem_banner.text()
    assert db_rows(window, "SELECT * FROM audit_log WHERE action = 'clock.jumped'")
    window.live.stop()  # before the clock returns: that would be a second jump


def test_closing_with_alerts_the_database_refused_asks_first(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from console.pipeline.recognizer import _PendingAlert

    qtbot.waitUntil(lambda: window.live is not None and bool(window.live.workers), timeout=60000)
    outbox = window.live.workers[0].recognizer.outbox
    outbox.append(_PendingAlert(None, None, 0, 0.0))  # as the worker holds one while the database refuses
    asked: list[str] = []

    def answer(_parent, _title, text, *_args):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", answer)
    assert window.close() is False and window.live is not None  # the operator cancelled: still running
    assert "1 alert(s) could not be saved yet" in asked[0] and "lost" in asked[0]
    outbox.clear()
    assert window.close() is True and len(asked) == 1  # nothing held: it closes without asking


def test_the_stop_key_halts_recognition_for_the_deployment_and_says_so(qtbot, window):
    """F12 asks why, stops the whole deployment (logged), and every camera and the banner show it."""
    qtbot.waitUntil(lambda: window.live is not None and window.live.workers[0].analysed > 0, timeout=60000)
    from ui.actions import Act

    assert window.actions_by_name[Act.STOP].isEnabled() and not window.actions_by_name[Act.RESTART].isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_F12)
    dialog = window.reason_dialog
    assert dialog.isVisible() and not db_rows(window, "SELECT id FROM deployments WHERE state = 'stopped'")
    dialog.setTextValue("a member of the public asked why there is no signage")
    dialog.accept()
    qtbot.waitUntil(lambda: window.status.oversight_banner.isVisible(), timeout=5000)
    assert "RECOGNITION STOPPED by demo.operator" in window.status.oversight_banner.text()
    assert "no signage" in window.status.oversight_banner.text()
    state = db_rows(window, "SELECT state, stop_reason FROM deployments WHERE id = ?", (window.live.deployment_id,))[0]
    assert state["state"] == "stopped" and "signage" in state["stop_reason"]
    assert not window.live.workers[0].recognising
    analysed = window.live.workers[0].analysed
    qtbot.wait(500)
    assert window.live.workers[0].analysed <= analysed + 1
    # An operator may stop, not restart; neither key does anything more now.
    assert not window.actions_by_name[Act.STOP].isEnabled() and not window.actions_by_name[Act.RESTART].isEnabled()
    logged = db_rows(window, "SELECT actor, details_json FROM audit_log WHERE action = 'deployment.stopped'")
    assert [r["actor"] for r in logged] == ["demo.operator"]


def test_another_seats_stop_and_restart_show_on_this_seat(qtbot, window):
    from console.services.accounts import auth
    from console.services.setup import deployments
    from console.store import open_store

    qtbot.waitUntil(lambda: window.live is not None and window.live.workers[0].analysed > 0, timeout=60000)
    with open_store(window.db_path.parent) as store:  # a supervisor at another seat
        supervisor = auth.actor_for(store, "demo.supervisor")
        deployments.stop(store, supervisor, window.live.deployment_id, "operation paused by the commander")
        qtbot.waitUntil(lambda: window.status.oversight_banner.isVisible(), timeout=5000)
        assert "by demo.supervisor" in window.status.oversight_banner.text()
        assert window.status_labels["recognition"].text() == "Recognition STOPPED"
        assert not window.live.workers[0].recognising
        deployments.restart(store, supervisor, window.live.deployment_id, "resumed on the commander's order")
    qtbot.waitUntil(lambda: not window.status.oversight_banner.isVisible(), timeout=5000)
    analysed = window.live.workers[0].analysed
    qtbot.waitUntil(lambda: window.live.workers[0].analysed > analysed + 2, timeout=20000)
    assert window.status_labels["recognition"].text() == ""  # running is the normal state: the line says nothing


def test_confirming_the_second_candidate_takes_one_more_key_and_records_that_person(qtbot, window):
    row = open_with_keyboard(qtbot, window)
    candidates = window.view.detail.candidates
    assert len(candidates) >= 2, "the demo watchlist has two subjects: every alert has two candidates"
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)  # the next candidate
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.view.mode == "confirm_other" and "not the top match" in window.view.confirm_text.text()
    qtbot.keyClick(window, Qt.Key.Key_Return)  # Enter does not confirm from the warning
    assert window.view.mode == "confirm_other" and not db_rows(window, "SELECT id FROM decisions")
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert f"Confirm: {candidates[1].subject_name}" in window.view.confirm_text.text()
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM decisions WHERE alert_id = ?", (row["id"],))),
                    timeout=10000)
    decision = db_rows(window, "SELECT * FROM decisions WHERE alert_id = ?", (row["id"],))[0]
    assert decision["candidate_entry_id"] == candidates[1].entry_id
    assert decision["candidate_score"] == pytest.approx(candidates[1].score)


def test_sightings_of_one_person_share_one_card_and_s_shows_each(qtbot, window):
    from console.store import open_store, repo

    row = first_alert(qtbot, window)  # a real alert from the demo's recogniser
    store = open_store(window.db_path.parent)
    try:
        a = store.one("SELECT * FROM alerts WHERE id = ?", (row["id"],))
        cands = store.query("SELECT entry_id, image_id, score FROM alert_candidates WHERE alert_id = ? ORDER BY rank",
                            (row["id"],))
        # the same person, seen again (as by a worker on another seat): it joins the card, not the queue
        again = repo.insert_alert(store, repo.AlertRecord(
            a["deployment_id"], a["camera_id"], a["track_id"] + 1000,
            [(c["entry_id"], c["image_id"], c["score"] - 0.01) for c in cands], a["threshold"], a["model_id"],
            [0, 0, 10, 10], {}, a["probe_jpeg"], a["context_jpeg"], a["captured_at"]))
    finally:
        store.close()
    qtbot.waitUntil(lambda: window.alerts.row_of(again) >= 0
                    and window.alerts.rows[window.alerts.row_of(again)]["sightings"] >= 2, timeout=20000)
    incident = row["incident_id"]
    assert sum(r.get("incident_id") == incident for r in window.alerts.rows) == 1
    window.queue_view.setCurrentIndex(window.alerts.index(window.alerts.row_of(again)))
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.view.mode == "review" and window.view.detail is not None, timeout=10000)
    detail = window.view.detail
    assert detail.incident_id == incident and len(detail.sightings) >= 2 and detail.sighting_index == 0
    assert detail.sightings[0]["score"] >= detail.sightings[1]["score"]  # the best first
    assert "one decision covers them all" in window.view.sightings_note.text()
    assert f"Incident {incident}" in window.view.title.text()
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.view.detail is not None and window.view.detail.alert_id != detail.alert_id
                    and window.view.mode == "review", timeout=10000)
    assert window.view.detail.sighting_index == 1
    shown = window.view.detail.alert_id
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.keyClick(window, Qt.Key.Key_3)  # look-alike
    qtbot.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(db_rows(window, "SELECT id FROM decisions WHERE alert_id = ?", (shown,))),
                    timeout=10000)
    qtbot.waitUntil(lambda: window.alerts.row_of(again) < 0, timeout=10000)
    left = db_rows(window, "SELECT COUNT(*) AS n FROM alerts WHERE incident_id = ? AND status = 'pending'", (incident,))
    decisions = db_rows(window, "SELECT COUNT(*) AS n FROM decisions d JOIN alerts a ON a.id = d.alert_id"
                                " WHERE a.incident_id = ?", (incident,))
    assert left[0]["n"] == 0 and decisions[0]["n"] == 1
