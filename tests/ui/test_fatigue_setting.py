"""The hand-over prompt's period, set by a supervisor from the supervision dialog's deployment tab on a
real database: refused without a reason in the service's words, saved and logged with one (a governed
setting), greyed for an operator with who may on hover."""

import json

import pytest

from console.services.decisions import fatigue
from console.store import governed
from tests.ui.supervision_world import live, supervision_dialog  # noqa: F401 - the shared fixture


@pytest.fixture
def dialog_for(qtbot, console_app, live):
    from ui.jobs import JobRunner

    jobs = JobRunner(threads=1)
    yield lambda username: supervision_dialog(qtbot, live, jobs, username)
    jobs.wait(5000)


def fatigue_changes(live) -> list[dict]:
    rows = live.store.query("SELECT actor, details_json FROM audit_log WHERE action = 'setting.changed'"
                            " AND subject_id = ?", (f"deployment/{live.deployment_id}/fatigue",))
    return [{"actor": r["actor"], **json.loads(r["details_json"])} for r in rows]


def test_a_supervisor_sets_the_hand_over_prompt_with_a_reason(qtbot, dialog_for, live):
    dialog = dialog_for("sup")
    tab = dialog.deployment
    assert tab.ask_after.value() == 120  # the default, read from the service
    tab.ask_after.setValue(90)
    tab.set_fatigue_button.click()  # no reason: refused, nothing saved
    qtbot.waitUntil(lambda: "needs a reason" in dialog.message.text(), timeout=10000)
    assert fatigue_changes(live) == []
    tab.two_person_reason.setText("night shift: shorter spells at the screen")
    tab.set_fatigue_button.click()
    qtbot.waitUntil(lambda: "Hand-over prompt set and logged" in dialog.message.text(), timeout=10000)
    assert fatigue.config(live.store, live.deployment_id) == {"ask_after_min": 90}
    (change,) = fatigue_changes(live)
    assert change["actor"] == "sup" and change["reason"] == "night shift: shorter spells at the screen"
    assert change["new"] == {"ask_after_min": 90} and governed.verify(live.store) == []


def test_an_operator_sees_the_setting_greyed_with_who_may(qtbot, dialog_for):
    tab = dialog_for("op").deployment
    assert not tab.set_fatigue_button.isEnabled() and "Needs a supervisor" in tab.set_fatigue_button.toolTip()
