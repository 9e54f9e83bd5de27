"""The supervisor's review window on a real database: lazy log, filters, audit verification."""

import sqlite3
from types import SimpleNamespace

import pytest

from console.services.accounts import auth
from console.store import open_store, repo
from tests.factories import small_deployment


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store)
    dep = d.deployment_id
    for i in range(1000):
        d.alert(score=0.4 + (i % 60) / 100, track=i)
    obj = SimpleNamespace(store=store, deployment_id=dep, deployment=repo.get_deployment(store, dep),
                          operator=auth.actor_for(store, "sup"), path=store.path)
    yield obj
    store.close()


@pytest.fixture
def window(qtbot, console_app, live):
    from ui.jobs import JobRunner
    from ui.review import PAGE, ReviewWindow

    jobs = JobRunner(threads=1)
    win = ReviewWindow(live, jobs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.log_model.rows) == PAGE, timeout=10000)
    yield win
    jobs.wait(5000)


def test_the_log_loads_lazily_and_filters(qtbot, window):
    model = window.log_model
    assert model.total == 1000 and len(model.rows) == 200 and model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: len(model.rows) == 400, timeout=10000)
    window.log.f_min.setValue(0.9)
    window.log.apply_filter()
    qtbot.waitUntil(lambda: bool(model.rows) and all(r["score"] >= 0.9 - 1e-9 for r in model.rows), timeout=10000)
    assert model.total == sum(1 for i in range(1000) if 0.4 + (i % 60) / 100 >= 0.9 - 1e-9)


def test_the_ui_catches_a_changed_a_deleted_and_a_reordered_entry(qtbot, window, live):
    window.record.verify_audit()
    qtbot.waitUntil(lambda: "intact" in window.record.audit_result.text(), timeout=10000)
    con = sqlite3.connect(live.path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.commit()

    def verify_says(text):
        window.record.audit_result.setText("")
        window.record.verify_audit()
        qtbot.waitUntil(lambda: text in window.record.audit_result.text(), timeout=10000)

    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 40")  # changed
    con.commit()
    verify_says("BROKEN at entry 40")
    original = con.execute("SELECT actor FROM audit_log WHERE seq = 41").fetchone()[0]
    con.execute("UPDATE audit_log SET actor = ? WHERE seq = 40", (original,))  # (repair, to test the next kind)
    con.commit()
    verify_says("intact")
    cols = "at, actor, action, subject_type, subject_id, details_json, prev_hash, hash"
    a = con.execute(f"SELECT {cols} FROM audit_log WHERE seq = 50").fetchone()
    b = con.execute(f"SELECT {cols} FROM audit_log WHERE seq = 51").fetchone()
    setter = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    con.execute(f"UPDATE audit_log SET {setter} WHERE seq = 50", b)  # reordered: 50 and 51 swapped
    con.execute(f"UPDATE audit_log SET {setter} WHERE seq = 51", a)
    con.commit()
    verify_says("BROKEN at entry 50")
    con.execute(f"UPDATE audit_log SET {setter} WHERE seq = 50", a)
    con.execute(f"UPDATE audit_log SET {setter} WHERE seq = 51", b)
    con.execute("DELETE FROM audit_log WHERE seq = 30")  # deleted
    con.commit()
    verify_says("BROKEN at entry 30")
    con.close()


def test_the_what_if_answers_for_the_threshold_asked(qtbot, window):
    window.record.what_if_value.setValue(0.9)
    qtbot.waitUntil(lambda: "At 0.900" in window.record.what_if_result.text(), timeout=10000)
    kept = sum(1 for i in range(1000) if 0.4 + (i % 60) / 100 >= 0.9 - 1e-9)
    assert f"{kept} would still be raised" in window.record.what_if_result.text()


def test_blind_review_hides_the_original_and_reports_agreement(qtbot, window, live):
    from console.services.decisions import adjudication

    sup = live.operator
    for alert_id in (1, 2, 3):
        adjudication.open_alert(live.store, sup, alert_id)
        adjudication.reject(live.store, sup, alert_id, "look_alike")
    window.blind.sample_size.setValue(3)
    window.blind.draw_sample()
    qtbot.waitUntil(lambda: len(window.blind.pending) == 3, timeout=10000)
    assert "original" not in str(window.blind.pending[0].keys())
    assert "3 left in this sample" in window.blind.sample_status.text()
    window.blind.blind_decide("false_alert")
    qtbot.waitUntil(lambda: len(window.blind.pending) == 2 and "2 left" in window.blind.sample_status.text(), timeout=10000)
    window.blind.blind_decide("false_alert")
    qtbot.waitUntil(lambda: "1 left" in window.blind.sample_status.text(), timeout=10000)
    window.blind.blind_decide("true_alert")
    qtbot.waitUntil(lambda: "Sample done: 2 of 3" in window.blind.sample_status.text(), timeout=10000)


def test_a_tab_reads_when_shown_and_looking_at_an_alert_is_logged(qtbot, window, live):
    assert window.dashboard.summary.text() == ""  # not read until shown
    window.tabs.setCurrentWidget(window.dashboard)
    qtbot.waitUntil(lambda: "1000</b> incidents (1000 alerts)" in window.dashboard.summary.text(), timeout=10000)
    window.tabs.setCurrentWidget(window.log)
    window.log.view.selectRow(0)
    qtbot.waitUntil(lambda: window.log.history.count() > 0, timeout=10000)
    alert_id = window.log.model.rows[0]["id"]
    con = sqlite3.connect(live.path)
    try:
        viewed = con.execute("SELECT actor, subject_id, details_json FROM audit_log WHERE action = 'alert.viewed'"
                             ).fetchall()
    finally:
        con.close()
    assert viewed == [("sup", str(alert_id), '{"where":"decision log"}')]
    assert "Viewed" in window.log.history.item(window.log.history.count() - 1).text()


def test_a_role_that_may_not_read_the_log_is_told_so(qtbot, console_app, live):
    from ui.jobs import JobRunner
    from ui.review import ReviewWindow

    live.operator = auth.Actor(0, "op-seat", "operator")
    jobs = JobRunner(threads=1)
    win = ReviewWindow(live, jobs)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: "may not view decisions" in win.message.text(), timeout=10000)
    assert win.log.model.rows == []
    jobs.wait(5000)
