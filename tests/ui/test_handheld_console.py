"""The console's side of the engagement officer's handheld (issue 28), on a real SQLite store with
real widgets: the confirm step sends to the team by default or to one officer; the Dispatched list
follows delivery live from the change feed (the phone's reads made on a connection of its own, as the
web service's would be) and warns in red when nothing was delivered in 5 s; supervisors pair a phone
(code, QR code, fingerprint) and revoke it with a reason; Set up edits what officers may do."""

import json
import re
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, Signal

from console import clock
from console.services.accounts import auth
from console.services.engage import dispatch, instructions, pairing, service
from console.services.runtime.changes import ChangeFeed
from console.store import open_store, repo
from tests.factories import small_deployment


@pytest.fixture
def live(tmp_path):
    store = open_store(tmp_path / "data")
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "pc1", "PC One", "engagement_officer")
    repo.create_user(store, "pc2", "PC Two", "engagement_officer")
    phone = store.reopen()  # the handheld service's own connection
    obj = SimpleNamespace(store=store, phone=phone, deployment_id=d.deployment_id, small=d, engine=None,
                          deployment=repo.get_deployment(store, d.deployment_id), operator=auth.actor_for(store, "op"),
                          sup=auth.actor_for(store, "sup"))
    yield obj
    phone.close()
    store.close()


@pytest.fixture
def jobs():
    from ui.jobs import JobRunner

    runner = JobRunner(threads=1)
    yield runner
    runner.wait(5000)


def pair(live, officer="pc1"):
    code = pairing.start_pairing(live.phone, live.sup, officer, live.deployment_id)
    return pairing.pair(live.phone, code.code, "phone", "127.0.0.1")[1]


@pytest.fixture
def review(qtbot, console_app, live, jobs):
    from ui.adjudication import AdjudicationView
    from ui.adjudication.controller import ReviewController
    from ui.alert_model import AlertQueueModel

    view = AdjudicationView()
    qtbot.addWidget(view)
    view.show()
    controller = ReviewController(view, AlertQueueModel(), jobs)
    controller.attach(live)
    yield controller
    controller.renew_timer.stop()


def confirm_with(qtbot, review, jobs, live, number=None):
    """Open a new alert, C, optionally a number key for Send to, Enter; the dispatch it made."""
    alert_id = live.small.alert()
    review.open(alert_id)
    qtbot.waitUntil(lambda: review.view.mode == "review" and review.view.detail is not None, timeout=10000)
    review.view.ask_confirm()
    assert review.view.mode == "confirm"
    if number is not None:
        review.view.pick(number)
        assert review.view.mode == "confirm"  # a number picks the recipient, it decides nothing
    with qtbot.waitSignal(review.dispatched, timeout=10000):
        review.view.commit()
    jobs.wait(5000)
    return alert_id, dispatch.delivery(live.store, live.operator, alert_id)


def toast(widget):
    t = getattr(widget, "_toast", None)
    return t.text() if t is not None and t.isVisible() else ""


def test_confirm_sends_to_the_team_by_default(qtbot, review, jobs, live):
    pair(live, "pc1")
    pair(live, "pc2")
    alert_id, sent = confirm_with(qtbot, review, jobs, live)
    assert review.view.send_to.combo.count() == 3 and not review.view.send_to.nobody.isVisible()
    assert "send to" in review.view.send_to.keys_hint()  # 1 the team, 2-3 an officer
    assert sent.to == dispatch.TEAM and sent.reach == 2 and sent.state == "sent"
    assert "Sent to the team (2 officers" in toast(review.view)
    assert review.view.mode == "outcome"  # the operator-keyed outcome stays


def test_confirm_sends_to_the_officer_chosen_by_number(qtbot, review, jobs, live):
    pair(live, "pc1")
    pair(live, "pc2")
    alert_id = live.small.alert()
    review.open(alert_id)
    qtbot.waitUntil(lambda: review.view.detail is not None, timeout=10000)
    number = review.view.send_to.combo.findData("pc2") + 1
    _, sent = confirm_with(qtbot, review, jobs, live, number)
    assert sent.to == "pc2" and "Sent to pc2" in toast(review.view)


def test_with_nobody_paired_the_dispatch_is_recorded_and_the_operator_told_to_radio(qtbot, review, jobs, live):
    _, sent = confirm_with(qtbot, review, jobs, live)
    assert review.view.send_to.combo.count() == 1
    assert sent is not None and sent.reach == 0
    assert "No officer has a paired handheld: radio the officers" in toast(review.view)


class FeedBridge(QObject):
    change = Signal(object)


def test_delivery_follows_the_phone_live_and_warns_when_not_delivered_in_5_s(qtbot, console_app, live, jobs,
                                                                            monkeypatch):
    from ui.dispatch_board import LATE, DispatchPanel, DispatchTracker

    panel = DispatchPanel()
    qtbot.addWidget(panel)
    panel.show()
    tracker = DispatchTracker(jobs, panel, lambda: live)
    bridge = FeedBridge()
    bridge.change.connect(tracker.on_change)
    feed = ChangeFeed(live.store.reopen, bridge.change.emit, interval_s=0.1).start()
    try:
        qtbot.waitUntil(lambda: feed.last_seq > 0, timeout=5000)
        device = pair(live, "pc1")
        alert_id = live.small.alert()
        from console.services.decisions import adjudication

        adjudication.open_alert(live.phone, live.operator, alert_id)
        adjudication.confirm(live.phone, live.operator, alert_id, "the scar")
        sent = dispatch.send(live.phone, live.operator, alert_id)  # another seat's send: the feed brings it
        qtbot.waitUntil(lambda: bool(panel.texts()) and "✓ sent" in panel.texts()[0], timeout=5000)
        assert "○ delivered" in panel.texts()[0] and tracker.timer.isActive()

        later = clock.wall() + dispatch.NOT_DELIVERED_S + 1
        monkeypatch.setattr(clock, "_wall", lambda: later)
        qtbot.waitUntil(lambda: LATE in panel.texts()[0], timeout=5000)
        assert panel.list.item(0).foreground().color().name().lower() == "#d55e00"
        qtbot.waitUntil(lambda: not tracker.timer.isActive(), timeout=3000)  # late is shown: the feed takes over

        dispatch.inbox(live.phone, device)  # the phone asks: delivered
        qtbot.waitUntil(lambda: "✓ delivered" in panel.texts()[0], timeout=5000)
        assert LATE not in panel.texts()[0]
        dispatch.card(live.phone, device, sent.dispatch_id)  # the officer opens it: seen
        qtbot.waitUntil(lambda: "✓ seen" in panel.texts()[0], timeout=5000)
        dispatch.record_outcome(live.phone, device, sent.dispatch_id, True, True, "arrest")
        qtbot.waitUntil(lambda: "✓ outcome" in panel.texts()[0], timeout=5000)
        assert "Confirmed: same person, Arrest - pc1, on the handheld" in panel.texts()[0]
    finally:
        feed.stop()
        tracker.timer.stop()
        jobs.wait(5000)


def test_pairing_dialog_shows_code_qr_and_fingerprint_and_revoke_asks_why(qtbot, console_app, live, jobs):
    from ui.supervision.handhelds import NO_SERVICE, HandheldsDialog

    live.operator = live.sup
    dialog = HandheldsDialog(live, jobs, live.deployment_id, "D")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.officer.findData("pc1") >= 0, timeout=10000)
    assert NO_SERVICE in dialog.address.text()
    fingerprint = ":".join(["AB"] * 32)
    service.announce(live.phone, "https://10.1.2.3:8443", fingerprint, clock.utcnow())
    dialog.officer.setCurrentIndex(dialog.officer.findData("pc1"))
    dialog.pair_button.click()
    qtbot.waitUntil(lambda: re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", dialog.code.text()) is not None, timeout=10000)
    assert dialog.qr.pixmap() is not None and not dialog.qr.pixmap().isNull()
    assert fingerprint in dialog.fingerprint.text() and "https://10.1.2.3:8443/pair" in dialog.address.text()
    assert "pc1" in dialog.expiry.text()

    pairing.pair(live.phone, dialog.code.text(), "pixel", "127.0.0.1")  # the phone uses the code shown
    dialog.refresh()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and dialog.table.item(0, 4).text() == "live", timeout=10000)
    dialog.table.selectRow(0)
    dialog.revoke_button.click()
    asked = dialog.reason_dialog
    assert asked.isVisible() and "Why?" in asked.labelText()
    asked.setTextValue("   ")
    asked.accept()
    assert "needs a reason" in dialog.message.text()
    dialog.revoke_button.click()
    dialog.reason_dialog.setTextValue("phone lost")
    dialog.reason_dialog.accept()
    qtbot.waitUntil(lambda: dialog.table.item(0, 4).text().startswith("revoked"), timeout=10000)
    entry = live.store.one("SELECT details_json FROM audit_log WHERE action = 'handheld.revoked'")
    assert json.loads(entry["details_json"])["reason"] == "phone lost"
    jobs.wait(5000)


def test_set_up_edits_what_officers_may_do_with_a_reason(qtbot, console_app, live, jobs):
    from ui.supervision.handhelds import HandheldsDialog
    from ui.supervision.setup import SetupTab
    from ui.tool_dialog import ToolDialog

    live.operator = live.sup
    dialog = ToolDialog(live, jobs, "Set up", (1280, 720))
    tab = SetupTab(dialog)
    dialog.add_tabs([(tab, "Set up")])
    qtbot.addWidget(dialog)
    dialog.show()
    tab.refresh()
    page = tab.officers
    tab.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.texts["missing_person"].toPlainText() == instructions.DEFAULTS["missing_person"],
                    timeout=10000)
    page.save_button.click()
    assert "No change" in dialog.message.text()
    new = "Check they are safe; call the family liaison officer. No arrest, no search."
    page.texts["missing_person"].setPlainText(new)
    page.save_button.click()  # no reason: the service refuses, in its words
    qtbot.waitUntil(lambda: "needs a reason" in dialog.message.text(), timeout=10000)
    page.reason.setText("force policy LFR-3 section 4")
    page.save_button.click()
    qtbot.waitUntil(lambda: "Instructions saved" in dialog.message.text(), timeout=10000)
    jobs.wait(5000)
    assert instructions.current(live.store, live.deployment_id)["missing_person"] == new
    assert instructions.current(live.store, live.deployment_id)["wanted_by_courts"] == instructions.DEFAULTS[
        "wanted_by_courts"]
    page.handhelds_button.click()
    assert isinstance(page.dialog, HandheldsDialog) and page.dialog.isVisible()
    qtbot.waitUntil(lambda: page.dialog.officer.findData("pc1") >= 0, timeout=10000)
    jobs.wait(5000)


def test_a_seat_started_mid_shift_follows_the_recent_dispatches_with_their_subjects(qtbot, console_app, live, jobs):
    from console.services.decisions import adjudication
    from ui.dispatch_board import DispatchPanel, DispatchTracker

    pair(live, "pc1")
    alert_id = live.small.alert()
    adjudication.open_alert(live.phone, live.operator, alert_id)
    adjudication.confirm(live.phone, live.operator, alert_id, "")
    dispatch.send(live.phone, live.operator, alert_id)  # before this seat started
    panel = DispatchPanel()
    qtbot.addWidget(panel)
    panel.show()
    tracker = DispatchTracker(jobs, panel, lambda: live)
    tracker.on_event(SimpleNamespace(kind="status", change=None))  # the first event after sign-in
    qtbot.waitUntil(lambda: bool(panel.texts()), timeout=5000)
    assert panel.texts()[0].startswith(f"Alert {alert_id} · P  →  the team")  # P: small_deployment's subject
    tracker.timer.stop()
    jobs.wait(5000)


def test_a_first_confirmation_under_the_two_person_rule_sends_nothing(qtbot, review, jobs, live):
    from console.services.setup import deployments

    deployments.set_two_person_rule(live.store, live.sup, live.deployment_id, True, "two people confirm")
    pair(live, "pc1")
    alert_id = live.small.alert()
    review.open(alert_id)
    qtbot.waitUntil(lambda: review.view.mode == "review" and review.view.detail is not None, timeout=10000)
    review.view.ask_confirm()
    review.view.commit()
    qtbot.waitUntil(lambda: review.view.mode != "confirm", timeout=10000)
    jobs.wait(5000)
    assert live.store.one("SELECT decision_id FROM dispatches") is None
    assert dispatch.delivery(live.store, live.operator, alert_id) is None
