"""The supervision dialog on a real database, without the main window: each tab reads as the
signed-in user when it is shown, and the human-oversight stop works from the deployment tab."""


import pytest

from console.services.accounts import auth
from console.store import repo
from tests.ui.supervision_world import live  # noqa: F401 - the shared fixture


@pytest.fixture
def open_dialog(qtbot, console_app, live):
    from ui.jobs import JobRunner
    from ui.supervision import SupervisionDialog

    jobs = JobRunner(threads=1)
    made = []

    def make(username: str):
        live.operator = auth.actor_for(live.store, username)
        dialog = SupervisionDialog(live, jobs)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: "Threshold in force" in dialog.deployment.facts.text(), timeout=10000)
        made.append(dialog)
        return dialog

    yield make
    jobs.wait(5000)


def refusals(live) -> list[str]:
    return [r["details_json"] for r in live.store.query("SELECT details_json FROM audit_log"
                                                        " WHERE action = 'access.refused'")]


def test_a_tab_reads_only_when_shown_and_refusals_are_the_services_words(qtbot, open_dialog, live):
    dialog = open_dialog("op")
    assert refusals(live) == []  # nothing read that the operator did not open
    dialog.tabs.setCurrentWidget(dialog.users)
    qtbot.waitUntil(lambda: "may not view users" in dialog.message.text(), timeout=10000)
    assert dialog.users.users.rowCount() == 0 and len(refusals(live)) == 1
    dialog.tabs.setCurrentWidget(dialog.watchlist)
    qtbot.waitUntil(lambda: "may not view watchlist" in dialog.message.text(), timeout=10000)


def test_the_supervisor_sees_labels_not_codes(qtbot, open_dialog):
    dialog = open_dialog("sup")
    dialog.tabs.setCurrentWidget(dialog.watchlist)
    qtbot.waitUntil(lambda: dialog.watchlist.entries.rowCount() == 1, timeout=10000)
    assert dialog.watchlist.entries.item(0, 2).text() == "Missing person"
    dialog.tabs.setCurrentWidget(dialog.users)
    qtbot.waitUntil(lambda: dialog.users.users.rowCount() == 2, timeout=10000)
    roles = {dialog.users.users.item(r, 0).text(): dialog.users.users.item(r, 2).text() for r in range(2)}
    assert roles == {"op": "Operator", "sup": "Supervisor"}


def test_stop_and_restart_from_the_deployment_tab_show_who_when_and_why(qtbot, open_dialog, live):
    dialog = open_dialog("sup")
    tab = dialog.deployment
    assert tab.stop_button.isEnabled() and not tab.restart_button.isEnabled()
    tab.stop_reason.setText("crowd surge at the gate")
    tab.stop_button.click()
    qtbot.waitUntil(lambda: "STOPPED" in tab.oversight.text(), timeout=10000)
    assert "by sup (supervisor): crowd surge at the gate" in tab.oversight.text()
    assert tab.restart_button.isEnabled() and not tab.stop_button.isEnabled()
    assert repo.get_deployment(live.store, live.deployment_id)["state"] == "stopped"
    tab.operator_may_stop.setChecked(False)
    tab.stop_reason.setText("supervisors only during the match")
    tab.apply_policy_button.click()
    qtbot.waitUntil(lambda: "supervisors only" in tab.oversight.text(), timeout=10000)
    tab.stop_reason.setText("all clear")
    tab.restart_button.click()
    qtbot.waitUntil(lambda: "Recognition:</b> Active" in tab.oversight.text(), timeout=10000)
    actions = [r["action"] for r in live.store.query("SELECT action FROM audit_log WHERE action LIKE 'deployment.%'"
                                                      " ORDER BY seq")]
    assert actions[-3:] == ["deployment.stopped", "deployment.stop_policy", "deployment.restarted"]


def test_an_operator_may_stop_only_where_the_deployment_allows(qtbot, open_dialog, live):
    from console.services.setup import deployments

    deployments.set_operator_may_stop(live.store, auth.actor_for(live.store, "sup"), live.deployment_id, False,
                                      "reserved")
    dialog = open_dialog("op")
    assert not dialog.deployment.stop_button.isEnabled()
    assert not dialog.deployment.restart_button.isEnabled()


def test_the_incident_window_is_set_from_the_deployment_tab_with_a_reason(qtbot, open_dialog, live):
    dialog = open_dialog("sup")
    tab = dialog.deployment
    qtbot.waitUntil(lambda: "Incident window:</b> off (every alert alone)" in tab.facts.text(), timeout=10000)
    assert tab.incident_window.value() == 0  # this test deployment was made with grouping off
    tab.incident_window.setValue(10)
    tab.set_window_button.click()  # no reason: refused in the service's words, nothing changes
    qtbot.waitUntil(lambda: "needs a reason" in dialog.message.text(), timeout=10000)
    tab.two_person_reason.setText("a long queue at the gate: one person lingers")
    tab.set_window_button.click()
    qtbot.waitUntil(lambda: "Incident window:</b> 10 min 00 s" in tab.facts.text(), timeout=10000)
    assert repo.get_deployment(live.store, live.deployment_id)["incident_window_s"] == 600


def test_users_tab_security_delete_asks_twice_and_own_password_needs_the_current_one(qtbot, open_dialog, live,
                                                                                   monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(live.store, "admin", "Admin", "a long root passphrase")
    auth.reset_password(live.store, admin, "op", "violet kettle harbour")
    dialog = open_dialog("admin")
    tab = dialog.users
    dialog.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.users.rowCount() == 3, timeout=10000)
    tab.target_user.setText("op")
    tab.delete.click()
    assert "Press again" in dialog.message.text() and repo.get_user(live.store, "op")["deleted_at"] is None
    tab.delete.click()
    qtbot.waitUntil(lambda: "deleted and logged" in dialog.message.text(), timeout=10000)
    qtbot.waitUntil(lambda: any(tab.users.item(r, 3).text() == "deleted" for r in range(tab.users.rowCount())),
                    timeout=10000)
    assert repo.get_user(live.store, "op")["deleted_at"]

    dialog = open_dialog("admin")
    tab = dialog.users
    tab.current_password.setText("not my password")
    tab.changed_password.setText("an amber lighthouse")
    tab.changed_again.setText("an amber lighthouse")
    [b for b in tab.findChildren(type(tab.delete)) if b.text() == "Change my password"][0].click()
    qtbot.waitUntil(lambda: "Refused: sign-in refused" in dialog.message.text(), timeout=10000)
    assert tab.current_password.text() == ""  # never left in the field
    tab.current_password.setText("a long root passphrase")
    tab.changed_password.setText("an amber lighthouse")
    tab.changed_again.setText("an amber lighthouse")
    [b for b in tab.findChildren(type(tab.delete)) if b.text() == "Change my password"][0].click()
    qtbot.waitUntil(lambda: "Your password was changed" in dialog.message.text(), timeout=10000)
    assert auth.login(live.store, "admin", "an amber lighthouse").username == "admin"
