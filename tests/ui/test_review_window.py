"""The supervisor's review window on a real database: lazy log, filters, audit verification."""

import sqlite3
from types import SimpleNamespace

import pytest

from console.services import auth
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
    from ui.review_window import PAGE, ReviewWindow

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
    window.f_min.setValue(0.9)
    window.apply_filter()
    qtbot.waitUntil(lambda: bool(model.rows) and all(r["score"] >= 0.9 - 1e-9 for r in model.rows), timeout=10000)
    assert model.total == sum(1 for i in range(1000) if 0.4 + (i % 60) / 100 >= 0.9 - 1e-9)


def test_the_ui_catches_a_changed_a_deleted_and_a_reordered_entry(qtbot, window, live):
    window.verify_audit()
    qtbot.waitUntil(lambda: "intact" in window.audit_result.text(), timeout=10000)
    con = sqlite3.connect(live.path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.commit()

    def verify_says(text):
        window.audit_result.setText("")
        window.verify_audit()
        qtbot.waitUntil(lambda: text in window.audit_result.text(), timeout=10000)

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
    window.what_if_value.setValue(0.9)
    qtbot.waitUntil(lambda: "At 0.900" in window.what_if_result.text(), timeout=10000)
    kept = sum(1 for i in range(1000) if 0.4 + (i % 60) / 100 >= 0.9 - 1e-9)
    assert f"{kept} would still be raised" in window.what_if_result.text()


def test_blind_review_hides_the_original_and_reports_agreement(qtbot, window, live):
    from console.services import review

    sup = live.operator
    for alert_id in (1, 2, 3):
        review.reject(live.store, sup, alert_id, "look_alike")
    window.sample_size.setValue(3)
    window.draw_sample()
    qtbot.waitUntil(lambda: len(window.pending) == 3, timeout=10000)
    assert "original" not in str(window.pending[0].keys())
    assert "3 left in this sample" in window.sample_status.text()
    window.blind_decide("false_alert")
    qtbot.waitUntil(lambda: len(window.pending) == 2 and "2 left" in window.sample_status.text(), timeout=10000)
    window.blind_decide("false_alert")
    qtbot.waitUntil(lambda: "1 left" in window.sample_status.text(), timeout=10000)
    window.blind_decide("true_alert")
    qtbot.waitUntil(lambda: "Sample done: 2 of 3" in window.sample_status.text(), timeout=10000)
