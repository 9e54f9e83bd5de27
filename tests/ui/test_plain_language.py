"""The supervisor's screens speak the user's language: no stored code, dict or list repr, or
microsecond UTC time in what the decision log, its history and the dashboard show; the detail
pane empties when its alert leaves the filtered list; equality fields start "not recorded";
sign-off goes through a confirmation that shows the figures, and then shows the frozen record."""

import re
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from console.domain import Decision, EngagementAction, EngagementResult, RejectReason, WatchlistCategory
from console.services.accounts import auth
from console.services.decisions import adjudication
from console.services.record import stats
from console.services.setup import deployments
from console.store import open_store, repo
from tests.factories import SUPERVISOR_PASSWORD, small_deployment

CODES = {*Decision.codes(), *RejectReason.codes(), *EngagementResult.codes(), *EngagementAction.codes(),
         *WatchlistCategory.codes()}
RAW = re.compile(r"[{}\[\]]|\b[a-z]+_[a-z_]+\b|\d\d:\d\d:\d\d\.\d|T\d\d:\d\d|\+00:00|Z$")


def assert_plain(texts):
    for text in texts:
        assert not RAW.search(text), f"program output on screen: {text!r}"
        assert not any(re.search(rf"\b{code}\b", text) for code in CODES if "_" in code or code == "duplicate"), text


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("ann",))
    ann, sup = auth.actor_for(store, "ann"), auth.actor_for(store, "sup")
    ids = [d.alert(score=0.5 + i / 20, track=i) for i in range(6)]
    adjudication.open_alert(store, ann, ids[0])
    adjudication.reject(store, ann, ids[0], "different_person", "coat differs")
    adjudication.open_alert(store, ann, ids[1])
    adjudication.reject(store, ann, ids[1], "look_alike")
    adjudication.open_alert(store, ann, ids[2])
    adjudication.confirm(store, ann, ids[2])
    engagement = adjudication.record_outcome(store, ann, ids[2], "confirmed_true", "words_of_advice")
    stats.record_demographics(store, sup, engagement, "male", "not_stated")
    adjudication.open_alert(store, ann, ids[3])
    adjudication.escalate(store, ann, ids[3], "unsure")
    obj = SimpleNamespace(store=store, deployment_id=d.deployment_id, operator=sup, path=store.path, ids=ids,
                          deployment=repo.get_deployment(store, d.deployment_id))
    yield obj
    store.close()


@pytest.fixture
def window(qtbot, console_app, live):
    from ui.jobs import JobRunner
    from ui.review import ReviewWindow

    jobs = JobRunner(threads=1)
    win = ReviewWindow(live, jobs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.log_model.rows) == 6, timeout=10000)
    yield win
    jobs.wait(5000)


def _model_texts(model):
    return [model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole) or ""
            for r in range(model.rowCount()) for c in range(model.columnCount())]


def test_the_decision_log_and_its_history_show_no_raw_codes(qtbot, window, live):
    texts = _model_texts(window.log_model)
    assert "Rejected: not a match" in texts and "Confirmed match" in texts and "Different person" in texts
    assert "Confirmed: same person" in texts and "Undecided" in texts
    assert_plain(texts)
    header, view = window.log_view.horizontalHeader(), window.log_view
    qtbot.waitUntil(lambda: all(header.sectionSize(c) >= min(view.sizeHintForColumn(c), 220) for c in range(2, 13)),
                    timeout=5000)  # no column cut off
    row = window.log_model.row_of(live.ids[0])
    window.log_view.selectRow(row)
    qtbot.waitUntil(lambda: window.d_history.count() >= 3, timeout=10000)
    lines = [window.d_history.item(i).text() for i in range(window.d_history.count())]
    assert any("Decided \u00b7 Rejected: not a match \u00b7 Different person" in line for line in lines)
    assert_plain(lines)


def test_the_dashboard_shows_labels_and_keys(qtbot, window):
    window.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "incidents (" in window.summary.text(), timeout=10000)
    summary = re.sub(r"<[^>]+>", "", window.summary.text() + window.dashboard.equality.text())
    assert "Different person: 1" in summary and "Male" in summary
    assert_plain([summary])
    assert all(name for chart in (window.dashboard.c_hour, window.dashboard.c_camera) for name, _ in chart.series)


def test_the_detail_pane_clears_when_its_alert_leaves_the_filtered_list(qtbot, window, live):
    window.log_view.selectRow(window.log_model.row_of(live.ids[0]))
    qtbot.waitUntil(lambda: window.d_history.count() > 0, timeout=10000)
    window.log.f_decision.setCurrentIndex(window.log.f_decision.findData("true_alert"))
    window.log.apply_filter()
    qtbot.waitUntil(lambda: len(window.log_model.rows) == 1, timeout=10000)
    assert window.log_model.row_of(live.ids[0]) == -1
    assert window.d_history.count() == 0 and window.log.shown_alert is None
    assert window.log.d_probe.pixmap().isNull()


def test_equality_fields_start_not_recorded_and_are_not_recorded_so(qtbot, window, live):
    assert window.log.eq_sex.currentText() == "Not recorded" and window.log.eq_sex.currentData() == ""
    assert window.log.eq_group.currentText() == "Not recorded" and window.log.eq_group.currentData() == ""
    window.log_view.selectRow(window.log_model.row_of(live.ids[2]))
    before = live.store.one("SELECT COUNT(*) AS n FROM engagement_demographics")["n"]
    window.log.record_equality()
    assert "nothing was recorded" in window.message.text()
    assert live.store.one("SELECT COUNT(*) AS n FROM engagement_demographics")["n"] == before


def test_sign_off_confirms_with_the_figures_then_shows_the_frozen_record(qtbot, window, live):
    from ui.review.sign_off_dialog import SignOffDialog

    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: "Draft" in window.record.record.text(), timeout=10000)
    window.record.sign_off()
    qtbot.waitUntil(lambda: isinstance(getattr(window.record, "confirm", None), SignOffDialog), timeout=10000)
    dialog = window.record.confirm
    assert not dialog.sign.isEnabled() and "active" in dialog.refusal.text()
    assert "undecided" in dialog.figures.text().lower()
    dialog.reject()
    sup, ann = live.operator, auth.actor_for(live.store, "ann")
    adjudication.open_alert(live.store, sup, live.ids[3])
    adjudication.reject(live.store, sup, live.ids[3], "look_alike", "escalated: clearly another person")
    for alert in live.ids[4:]:
        adjudication.open_alert(live.store, ann, alert)
        adjudication.reject(live.store, ann, alert, "image_too_poor")
    deployments.end(live.store, sup, live.deployment_id, "done")
    window.record.sign_off()
    qtbot.waitUntil(lambda: window.record.confirm is not dialog, timeout=10000)
    dialog = window.record.confirm
    assert dialog.sign.isEnabled() and not dialog.refusal.isVisible()
    dialog.note.setText("checked")
    dialog.password.setText(SUPERVISOR_PASSWORD)  # it opens the supervisor's own sign-off key
    dialog.sign.click()
    qtbot.waitUntil(lambda: "Signed" in window.record.record.text(), timeout=10000)
    assert "every export reproduces it exactly" in window.record.record.text()
    assert live.store.one("SELECT note FROM report_signoffs")["note"] == "checked"
