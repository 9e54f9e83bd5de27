"""Known-answer tests in the console's windows (issue 29), on a real SQLite store with real widgets:
a decided test is revealed to the operator at once and is neither dispatched nor put on the outcome
list; a real alert is decided as before; the seat's timer makes a test when one is due (and none when
the tests are off); a supervisor saves the setting from the deployment tab, with a reason."""

import json
import random
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow

from console.services.accounts import auth
from console.services.accuracy import known_answer
from console.services.engage import dispatch
from console.store import known_answer as ka_db
from console.store import open_store, repo
from tests.factories import small_deployment
from tests.unit.test_known_answer import load_items


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    obj = SimpleNamespace(store=store, deployment_id=d.deployment_id, small=d, engine=None,
                          deployment=repo.get_deployment(store, d.deployment_id), operator=auth.actor_for(store, "op"),
                          sup=auth.actor_for(store, "sup"))
    yield obj
    store.close()


@pytest.fixture
def jobs():
    from ui.jobs import JobRunner

    runner = JobRunner(threads=1)
    yield runner
    runner.wait(5000)


@pytest.fixture
def review(qtbot, console_app, live, jobs):
    from ui.adjudication import AdjudicationView
    from ui.adjudication.controller import ReviewController
    from ui.alert_model import AlertQueueModel

    view = AdjudicationView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    controller = ReviewController(view, AlertQueueModel(), jobs)
    controller.attach(live)
    controller.outcomes, controller.reveals = [], []
    controller.awaitingOutcome.connect(lambda alert_id, subject: controller.outcomes.append(alert_id))
    controller.revealed.connect(controller.reveals.append)
    yield controller
    controller.renew_timer.stop()


def enable(live, mated=(False,), every=20):
    load_items(live.store, live.small.supervisor_id, live.deployment["model_id"], mated=mated)
    known_answer.configure(live.store, live.sup, live.deployment_id, True, every=every, hourly=True,
                           reason="measure the operators")


def toast(widget):
    t = getattr(widget.window(), "_toast", None)
    return t.text() if t is not None and t.isVisible() else ""


def open_and_confirm(qtbot, review, alert_id):
    review.open(alert_id)
    qtbot.waitUntil(lambda: review.view.mode == "review" and review.view.detail is not None, timeout=10000)
    review.view.ask_confirm()
    assert review.view.mode == "confirm"
    with qtbot.waitSignal(review.decided, timeout=10000):
        review.view.commit()


def test_confirming_a_non_mated_test_reveals_the_truth_and_sends_nothing(qtbot, review, jobs, live):
    enable(live)
    test_id = known_answer.inject(live.store, live.deployment_id, random.Random(3))
    open_and_confirm(qtbot, review, test_id)
    qtbot.waitUntil(lambda: bool(review.reveals), timeout=10000)
    jobs.wait(5000)
    (shown,) = review.reveals
    assert shown.alert_id == test_id and not shown.mated and not shown.correct
    text = toast(review.view)
    assert "known-answer test" in text and "different people" in text and "you confirmed the match" in text
    assert review.view.window()._toast.kind == "wrong"  # amber: the decision was not right
    assert dispatch.delivery(live.store, live.operator, test_id) is None  # never dispatched
    assert review.outcomes == [] and review.view.mode != "outcome"  # not on "Confirmed - outcome to record"
    revealed = live.store.query("SELECT details_json FROM audit_log WHERE action = 'known_answer.revealed'"
                                " AND subject_id = ?", (str(test_id),))
    assert [json.loads(r["details_json"])["decision"] for r in revealed] == ["true_alert"]
    qtbot.waitUntil(lambda: review.view.mode == "empty", timeout=10000)  # then on, as after any decision


def test_rejecting_a_non_mated_test_is_revealed_right_in_green(qtbot, review, jobs, live):
    enable(live)
    test_id = known_answer.inject(live.store, live.deployment_id, random.Random(4))
    review.open(test_id)
    qtbot.waitUntil(lambda: review.view.mode == "review" and review.view.detail is not None, timeout=10000)
    review.view.ask_reject()
    review.view.pick(1)
    with qtbot.waitSignal(review.revealed, timeout=10000):
        review.view.commit()
    assert review.reveals[0].correct and "you rejected it - right" in toast(review.view)
    assert review.view.window()._toast.kind == "correct"
    qtbot.keyClick(review.view, "j")  # the next key press dismisses it
    assert toast(review.view) == ""
    qtbot.waitUntil(lambda: review.view.mode == "empty", timeout=10000)


def test_a_real_alert_shows_no_reveal_and_goes_on_as_before(qtbot, review, jobs, live):
    enable(live)
    real = live.small.alert()
    assert not known_answer.is_test(live.store, real)
    with qtbot.waitSignal(review.dispatched, timeout=10000):
        open_and_confirm(qtbot, review, real)
    jobs.wait(5000)
    assert review.reveals == [] and "known-answer" not in toast(review.view)
    assert review.outcomes == [real] and review.view.mode == "outcome"
    assert dispatch.delivery(live.store, live.operator, real) is not None


class SeatWindow(QMainWindow):
    """The parts of the main window the timer uses: its status tick, the live deployment, the lock, the
    hand-over, the database jobs and the status bar (the real main window needs the face model)."""

    def __init__(self, live, jobs) -> None:
        super().__init__()
        self.live, self.db_jobs = live, jobs
        self.status_timer = QTimer(self)
        self.session_lock = SimpleNamespace(locked=False)
        self.shift = SimpleNamespace(dialog=None)


def test_the_timer_makes_a_test_when_one_is_due_and_none_when_off(qtbot, console_app, live, jobs):
    from ui import known_answer_timer

    window = SeatWindow(live, jobs)
    qtbot.addWidget(window)
    timer = known_answer_timer.install(window)
    timer.every = 1
    with qtbot.waitSignal(timer.answered, timeout=10000) as got:  # not enabled: nothing is made
        timer.tick()
    assert got.args == [None] and live.store.query("SELECT * FROM known_answer_alerts") == []
    enable(live)
    with qtbot.waitSignal(timer.answered, timeout=10000) as got:  # hourly, and none yet: due
        timer.tick()
    made = got.args[0]
    assert made is not None and known_answer.is_test(live.store, made)
    assert ka_db.test_of(live.store, made)["mated"] == 0
    with qtbot.waitSignal(timer.answered, timeout=10000) as got:  # one just made: not due again
        timer.tick()
    assert got.args == [None] and len(live.store.query("SELECT * FROM known_answer_alerts")) == 1
    window.session_lock.locked = True  # nobody at the seat: not asked at all
    timer.tick()
    assert not timer._asking


def test_the_timer_says_a_refusal_in_the_status_bar(qtbot, console_app, live, jobs):
    from ui import known_answer_timer

    window = SeatWindow(SimpleNamespace(store=live.store, deployment_id=9999, operator=live.operator), jobs)
    qtbot.addWidget(window)
    timer = known_answer_timer.install(window)
    live.store.close()  # the store gone: the job fails, the GUI thread is only told
    with qtbot.waitSignal(timer.answered, timeout=10000):
        timer.check()
    assert "Known-answer test not made" in window.statusBar().currentMessage()


@pytest.fixture
def dialog_for(qtbot, console_app, live, jobs):
    from tests.ui.supervision_world import supervision_dialog

    return lambda username: supervision_dialog(qtbot, live, jobs, username)


def test_the_supervision_row_saves_with_a_reason_and_lists_the_sets(qtbot, dialog_for, live):
    dialog = dialog_for("sup")
    row = dialog.deployment.known_answer
    qtbot.waitUntil(lambda: "known-answer load FOLDER --csv TRUTH.csv" in row.sets.text(), timeout=10000)
    load_items(live.store, live.small.supervisor_id, live.deployment["model_id"], mated=(True, False, True))
    dialog.refresh()
    qtbot.waitUntil(lambda: "3 pairs, 2 mated" in row.sets.text(), timeout=10000)
    assert not row.enabled.isChecked() and row.every.value() == 20 and row.hourly.isChecked()  # the defaults
    row.enabled.setChecked(True)
    row.every.setValue(7)
    row.hourly.setChecked(False)
    row.save_button.click()  # no reason: refused, nothing saved
    qtbot.waitUntil(lambda: "needs a reason" in dialog.message.text(), timeout=10000)
    assert not known_answer.settings(live.store, live.deployment_id)["enabled"]
    dialog.deployment.two_person_reason.setText("measure the night shift")
    row.save_button.click()
    qtbot.waitUntil(lambda: "Known-answer tests on (one per 7 real incidents)" in dialog.message.text(), timeout=10000)
    s = known_answer.settings(live.store, live.deployment_id)
    assert s["enabled"] and s["every"] == 7 and not s["hourly"]
    rows = live.store.query("SELECT actor, details_json FROM audit_log WHERE action = 'setting.changed'"
                            " AND subject_id = ?", (f"{known_answer.scope(live.deployment_id)}/{known_answer.KEY}",))
    assert [(r["actor"], json.loads(r["details_json"])["reason"]) for r in rows] == [("sup", "measure the night shift")]


def test_an_operator_sees_the_row_greyed_and_reads_no_sets(qtbot, dialog_for, live):
    row = dialog_for("op").deployment.known_answer
    assert not row.save_button.isEnabled() and "Needs a supervisor" in row.save_button.toolTip()
    assert not row.enabled.isEnabled() and "set by a supervisor" in row.sets.text()
    refused = live.store.query("SELECT * FROM audit_log WHERE action LIKE '%refused%' AND actor = 'op'")
    assert refused == []
