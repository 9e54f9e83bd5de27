"""Feedback and corrections on a real database with real widgets (no main window, no models):
refusals and no-ops are said over the panel; what a role may not use is greyed with why on hover;
the correction screen needs a reason, is a supervisor's, and is refused on an ended deployment."""

import json
from types import SimpleNamespace

import pytest

from console.services.accounts import auth
from console.services.decisions import adjudication
from console.services.setup import deployments, operating_point
from console.store import open_store, repo
from tests.factories import small_deployment


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "adm", "Admin", "administrator")
    obj = SimpleNamespace(store=store, deployment_id=d.deployment_id, engine=None, small=d,
                          deployment=repo.get_deployment(store, d.deployment_id), operator=auth.actor_for(store, "sup"))
    yield obj
    store.close()


@pytest.fixture
def jobs():
    from ui.jobs import JobRunner

    runner = JobRunner(threads=1)
    yield runner
    runner.wait(5000)


def supervision(qtbot, live, jobs, username):
    from ui.supervision import SupervisionDialog

    live.operator = auth.actor_for(live.store, username)
    dialog = SupervisionDialog(live, jobs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "Threshold in force" in dialog.deployment.facts.text(), timeout=10000)
    return dialog


def toast_text(widget):
    toast = getattr(widget, "_toast", None)
    return toast.text() if toast is not None and toast.isVisible() else ""


def threshold_entries(live):
    return [json.loads(r["details_json"]) for r in live.store.query(
        "SELECT details_json FROM audit_log WHERE action = 'deployment.threshold_changed'")]


def test_feedback_a_threshold_below_the_floor_is_refused_not_clamped_and_a_same_value_is_no_change(
        qtbot, console_app, live, jobs):
    dialog = supervision(qtbot, live, jobs, "sup")
    tab = dialog.deployment
    floor = operating_point.point(live.store, live.deployment_id).floor
    before = threshold_entries(live)
    tab.threshold.setValue(round(floor - 0.05, 3))
    assert abs(tab.threshold.value() - (floor - 0.05)) < 1e-3  # the box keeps what was typed: no clamp
    tab.threshold_reason.setText("more alerts please")
    tab.apply_threshold_button.click()
    qtbot.waitUntil(lambda: "below the floor" in toast_text(dialog.tabs), timeout=10000)
    assert dialog.tabs._toast.kind == "refused" and "changed" not in dialog.message.text()
    assert threshold_entries(live) == before
    current = repo.get_deployment(live.store, live.deployment_id)["threshold"]
    tab.threshold.setValue(current)
    tab.apply_threshold_button.click()
    assert "No change" in toast_text(dialog.tabs) and "Nothing was logged" in dialog.message.text()
    assert threshold_entries(live) == before
    tab.threshold.setValue(round(current + 0.05, 3))
    tab.apply_threshold_button.click()
    qtbot.waitUntil(lambda: "changed to" in dialog.message.text(), timeout=10000)
    assert threshold_entries(live)[-1]["new"] == pytest.approx(current + 0.05, abs=1e-3)


def test_feedback_an_operator_sees_supervisor_controls_greyed_with_the_reason_on_hover(
        qtbot, console_app, live, jobs):
    dialog = supervision(qtbot, live, jobs, "op")
    tab = dialog.deployment
    for button in (tab.apply_threshold_button, tab.set_rule_button, tab.end_button, tab.set_window_button,
                   tab.restart_button):
        assert not button.isEnabled()
        assert "Needs a supervisor" in button.toolTip() and "op (operator)" in button.toolTip()
    create = next(b for b in dialog.users.findChildren(type(tab.end_button)) if b.text().startswith("Create user"))
    assert not create.isEnabled() and "Needs an administrator" in create.toolTip()
    supervisor = supervision(qtbot, live, jobs, "sup")
    assert supervisor.deployment.apply_threshold_button.isEnabled() and supervisor.greyed
    assert all("administrator" in b.toolTip() for b in supervisor.greyed)


def test_feedback_a_created_user_is_named_and_the_password_leaves_its_field(qtbot, console_app, live, jobs):
    dialog = supervision(qtbot, live, jobs, "adm")
    users = dialog.users
    dialog.tabs.setCurrentWidget(users)
    users.new_user.setText("carol")
    users.new_name.setText("Carol Day")
    users.new_password.setText("a weak one")
    next(b for b in users.findChildren(type(users.delete)) if b.text().startswith("Create user")).click()
    assert users.new_password.text() == ""  # at once, whatever the answer
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Refused"), timeout=10000)
    users.new_password.setText("Correct-Horse-Battery-42x")
    next(b for b in users.findChildren(type(users.delete)) if b.text().startswith("Create user")).click()
    qtbot.waitUntil(lambda: "created and logged" in dialog.message.text(), timeout=10000)
    assert dialog.message.text().startswith("User carol (Operator) created and logged.")
    assert users.new_password.text() == "" and users.new_user.text() == ""
    assert "carol" in toast_text(dialog.tabs)


def test_feedback_reject_then_enter_with_no_reason_says_so(qapp):
    from ui.adjudication import DecisionPrompts
    from ui.adjudication.prompts import Candidate

    prompts = DecisionPrompts()
    said = []
    prompts.notice.connect(said.append)
    prompts.set_candidate(Candidate(1, 4, "P", "R-1", 0.7))
    prompts.load(3, pending=True, may_decide=True)
    prompts.commit()
    assert "press C to confirm" in said[-1]
    prompts.ask_reject()
    prompts.commit()
    assert prompts.mode == "reject" and "Pick a reason first" in said[-1]
    prompts.escalate()  # E inside the reject prompt does not leave it
    prompts.back()
    prompts.escalate()
    prompts.commit("  ")
    assert prompts.mode == "escalate" and "needs a note" in said[-1]
    prompts.load(4, pending=True, may_decide=False)
    prompts.ask_reject()
    assert "a supervisor decides it" in said[-1]


# -- corrections ---------------------------------------------------------------------------------------------
def decided_alert(live):
    d, op = live.small, auth.actor_for(live.store, "op")
    alert = d.alert()
    adjudication.open_alert(live.store, op, alert)
    return alert, adjudication.reject(live.store, op, alert, "different_person")


def review_window(qtbot, live, jobs, username):
    from ui.review import ReviewWindow

    live.operator = auth.actor_for(live.store, username)
    win = ReviewWindow(live, jobs)
    qtbot.addWidget(win)
    win.show()
    return win


def test_corrections_screen_from_the_decision_log_needs_a_reason_and_records_the_new_decision(
        qtbot, console_app, live, jobs):
    alert, old = decided_alert(live)
    win = review_window(qtbot, live, jobs, "sup")
    qtbot.waitUntil(lambda: len(win.log_model.rows) == 1, timeout=10000)
    win.log_view.selectRow(0)
    qtbot.waitUntil(lambda: win.log.detail is not None, timeout=10000)
    assert win.log.correct_button.isEnabled()
    win.log.correct_button.click()
    dialog = win.log.correction
    qtbot.addWidget(dialog)
    assert dialog.decision.currentData() == "true_alert"  # offered: the other decision
    dialog.submit()
    assert "needs a reason" in dialog.message.text() and "needs a reason" in toast_text(dialog)
    assert live.store.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 1
    dialog.note.setText("the ears match: reviewed with the case officer")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.result_id is not None, timeout=10000)
    new = live.store.one("SELECT * FROM decisions WHERE id = ?", (dialog.result_id,))
    assert new["supersedes"] == old and new["decision"] == "true_alert" and "ears match" in new["reason"]
    assert "Correction recorded" in dialog.message.text()


def test_corrections_screen_is_a_supervisors_and_refused_on_an_ended_deployment(qtbot, console_app, live, jobs):
    from ui.review.correction import CorrectionDialog

    alert, old = decided_alert(live)
    operator_log = review_window(qtbot, live, jobs, "op")
    assert not operator_log.log.correct_button.isEnabled()
    assert "Needs a supervisor" in operator_log.log.correct_button.toolTip()
    row = {"id": alert, "decision_id": old, "decision": "false_alert", "reason_code": "different_person",
           "username": "op", "subject_name": "P"}
    as_operator = CorrectionDialog(live, jobs, row, [])
    qtbot.addWidget(as_operator)
    assert not as_operator.record.isEnabled() and "Only a supervisor" in as_operator.message.text()
    live.operator = auth.actor_for(live.store, "sup")
    jobs.wait(5000)  # the dialogs' reads share live.store with the jobs thread: one connection, one thread
    deployments.end(live.store, live.operator, live.deployment_id, "over")
    dialog = CorrectionDialog(live, jobs, row, [])
    qtbot.addWidget(dialog)
    dialog.note.setText("wrong person after all")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Refused"), timeout=10000)
    assert "read-only" in dialog.message.text() and dialog.record.isEnabled()
    assert live.store.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 1
