"""The Review window's Operators tab on a real database: the scripted operator who confirms
everything is FLAGGED with every possible false confirmation, and a supervisor's action is logged."""

import json
from types import SimpleNamespace

import pytest

from console.store import open_store, repo
from tests.factories import SetClock
from tests.unit.test_operator_figures import START, scripted_world


@pytest.fixture
def window(qtbot, console_app, tmp_path, monkeypatch):
    from ui.jobs import JobRunner
    from ui.review import ReviewWindow

    store = open_store(tmp_path / "data")
    _store, d, _op, sup = scripted_world(store, SetClock(monkeypatch, START))
    live = SimpleNamespace(store=store, deployment_id=d.deployment_id,
                           deployment=repo.get_deployment(store, d.deployment_id), operator=sup, path=store.path)
    jobs = JobRunner(threads=1)
    win = ReviewWindow(live, jobs)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.operators)
    qtbot.waitUntil(lambda: len(win.operators.model.rows) == 1, timeout=10000)
    yield win, store
    jobs.wait(5000)
    store.close()


def test_the_panel_lists_the_operator_flagged_with_intervals_and_logs_an_action(qtbot, window):
    from ui.review.operators import COLUMNS

    win, store = window
    tab, model = win.operators, win.operators.model
    shown = {key: model.index(0, c).data() for c, (key, _title) in enumerate(COLUMNS)}
    assert shown == {"operator": "op", "decisions": "10", "re_reviewed": "10",
                     "agreement": "0.0 % [0.0-27.8 %] (n 10)",
                     "false_confirmations": "100.0 % [72.2-100.0 %] (n 10)",
                     "missed_confirmations": "n/a (n 0)", "median_s": "4.0 s", "flagged": "FLAGGED"}
    assert "0-1 h" in tab.hours.text() and "3-4 h" in tab.hours.text() and "Known-answer tests: none yet" in tab.hours.text()
    assert "above 5 % over at least 10 looks (the default rule)" in tab.rule.text()
    assert tab.action_button.isEnabled()
    tab.record_action("op", "Retrained on look-alikes")
    qtbot.waitUntil(lambda: "Retrained on look-alikes" in tab.actions.text(), timeout=10000)
    entry = store.one("SELECT actor, details_json FROM audit_log WHERE action = 'operator.flag_action'")
    assert entry["actor"] == "sup" and json.loads(entry["details_json"])["text"] == "Retrained on look-alikes"


def test_the_docs_screenshot_is_made_from_scripted_work(qtbot, console_app, tmp_path):
    from PySide6.QtGui import QImage

    from benchmarks.operator_screens import shoot

    image = QImage(str(shoot(tmp_path)))
    assert image.width() >= 1000 and image.height() >= 600


def test_the_operators_tab_fits_every_screen(qtbot, window):
    from tests.ui.test_screen_sizes import SIZES, problems, show_at

    win, _store = window
    for size in SIZES:
        show_at(qtbot, win, size)
        assert problems(win, size) == [], size


def test_a_supervisor_sets_the_flag_rule_with_a_reason_and_the_flag_follows(qtbot, window):
    win, store = window
    tab = win.operators
    assert tab.rule_button.isEnabled()
    tab.set_rule(0.9, 5, "a looser rule for the pilot")  # the lower bound 72.2 % is under 90 %: no flag
    qtbot.waitUntil(lambda: "above 90 % over at least 5" in tab.rule.text(), timeout=10000)
    from ui.review.operators import COLUMNS

    assert tab.model.index(0, len(COLUMNS) - 1).data() == ""  # the Flag column
    entry = store.one("SELECT details_json FROM audit_log WHERE action = 'setting.changed' ORDER BY seq DESC LIMIT 1")
    assert json.loads(entry["details_json"])["reason"] == "a looser rule for the pilot"
