"""End to end, as a new user would: from an empty store to a signed, exported deployment record.

One walk, on a real SQLite store in tmp_path, the real models and a real video file, through the
real windows and dialogs: an administrator makes a supervisor and two operators (Users tab); the
supervisor sets up a deployment on the video with three watchlist photos, ticks its checklist and
authorises it (Set up tab); operator 1 signs in at the operator window, recognition raises alerts
and they decide one in the adjudication view; they sign out and hand over to operator 2, who sees
what waits and escalates one with a note; the supervisor takes the seat, decides the escalated one
with a note, ends the deployment (F9), decides what is left, signs the record off through the
confirmation dialog with their password and exports it as JSON and PDF (F10). The export is the
frozen record and the audit log verifies.

Steps with no widget of their own, done through a service and said so below:
- the first administrator is made by ``auth.bootstrap_administrator`` (the README's
  ``main.py users bootstrap`` command; there is no screen for it, by design);
- before any deployment exists, no seat can be opened on the store, so the administrator's Users
  tab and the supervisor's Set up tab are shown in a tool dialog of their own (the same tab
  classes F9 shows), not reached through the operator window's F9.
"""

import argparse
import json
import sqlite3
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from console.feeds.demo import write_demo_video
from console.feeds.demo_media import demo_subjects
from console.services.accounts import auth
from console.services.record import signing
from console.services.record.audit_trail import integrity
from console.store import open_store
from tests.conftest import DATA
from ui.actions import Act

ADMIN_PW = "amber lantern over the quay"
SUP_PW = "violet kettle harbour"
OP1_PW = "copper swallow at noon"
OP2_PW = "night ferry with grey sails"


def rows(db, sql, params=()):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def tool_dialog(qtbot, live, tab_class, title):
    from ui.jobs import JobRunner
    from ui.tool_dialog import ToolDialog

    jobs = JobRunner(threads=1)
    dialog = ToolDialog(live, jobs, title, (1300, 800))
    tab = tab_class(dialog)
    dialog.add_tabs([(tab, title)])
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, tab, jobs


class Seat:
    """The tab dialogs' view of the store before a seat can open: the store and who is signed in."""

    def __init__(self, store, operator, engine=None) -> None:
        self.store, self.operator, self.engine, self.deployment_id = store, operator, engine, None


def sign_in(qtbot, dialog, user, password) -> None:
    dialog.user.setText(user)
    dialog.password.setText(password)
    dialog.button.click()


def hand_over_to(qtbot, win, user, password):
    """Sign out from the toolbar; the hand-over screen lists what waits; the next user signs in."""
    win.actions_by_name[Act.SIGN_OUT].trigger()
    qtbot.waitUntil(lambda: win.shift.dialog is not None, timeout=10000)
    dialog = win.shift.dialog
    lines = [win.shift.pending_list.item(i).text() for i in range(win.shift.pending_list.count())]
    sign_in(qtbot, dialog, user, password)
    qtbot.waitUntil(lambda: win.live.operator.username == user, timeout=15000)
    return lines


def open_row(qtbot, win, index=0) -> int:
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)  # the keys go to the window, not a closed dialog
    win.queue_view.setCurrentIndex(win.alerts.index(index))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.view.mode == "review" and win.view.detail is not None, timeout=10000)
    return win.view.detail.alert_id


def decided(db, alert_id) -> bool:
    return bool(rows(db, "SELECT id FROM decisions WHERE alert_id = ?", (alert_id,)))


def test_end_to_end_shift_from_an_empty_store_to_a_signed_exported_record(qtbot, console_app, tmp_path, engine,
                                                                           monkeypatch):
    from ui.app import start_window
    from ui.review import ReviewWindow
    from ui.review.sign_off_dialog import SignOffDialog
    from ui.supervision import SupervisionDialog
    from ui.supervision.setup import SetupTab
    from ui.supervision.users import UsersTab

    started = time.monotonic()
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    data = tmp_path / "data"
    db = data / "console.sqlite3"
    store = open_store(data)

    # 1. The first administrator (the README's `users bootstrap`: a command, no screen), who makes
    #    the supervisor and the two operators in the Users tab.
    admin = auth.bootstrap_administrator(store, "chief", "Chief Admin", ADMIN_PW)
    dialog, users, jobs = tool_dialog(qtbot, Seat(store, admin), UsersTab, "Users")
    users.refresh()
    for name, full, role, password in (("sup", "Sam Supervisor", "supervisor", SUP_PW),
                                       ("op1", "Olive One", "operator", OP1_PW),
                                       ("op2", "Oscar Two", "operator", OP2_PW)):
        users.new_user.setText(name)
        users.new_name.setText(full)
        users.new_role.setCurrentIndex(users.new_role.findData(role))
        users.new_password.setText(password)
        [b for b in users.findChildren(type(users.delete)) if b.text().startswith("Create user")][0].click()
        qtbot.waitUntil(lambda n=name: f"User {n} " in dialog.message.text(), timeout=15000)
        assert users.new_password.text() == ""  # the password never stays in its field
    qtbot.waitUntil(lambda: users.users.rowCount() == 4, timeout=10000)
    jobs.wait(5000)
    dialog.close()

    # 2. The supervisor sets up the deployment: its facts, a camera on a video file (tested, with a
    #    preview), three watchlist entries with their photos; ticks the checklist; authorises it.
    sup = auth.actor_for(store, "sup")
    dialog, tab, jobs = tool_dialog(qtbot, Seat(store, sup, engine), SetupTab, "Set up")
    tab.refresh()
    qtbot.waitUntil(lambda: "No deployment yet" in tab.state.text(), timeout=10000)
    for key, text in {"name": "Op Riverside", "location": "Riverside walk, north gate",
                      "rationale": "missing persons seen near the river", "legal_basis": "common law policing powers",
                      "dpia": "DPIA-2024-11", "policy": "LFR policy v3"}.items():
        tab.new[key].setText(text)
    tab.create_button.click()
    qtbot.waitUntil(lambda: "State: DRAFT" in tab.state.text(), timeout=10000)
    dep = tab.dep_id
    video = tmp_path / "north_gate.mp4"
    # Demo camera 2's first six seconds: both demo subjects walk through it; the file loops.
    write_demo_video(video, 1, seconds=6.0, size=(640, 360))
    tab.pages.setCurrentIndex(1)
    tab.cam_name.setText("North gate")
    tab.cam_source.setText(str(video))
    tab.add_camera_button.click()
    qtbot.waitUntil(lambda: tab.camera_list.rowCount() == 1, timeout=10000)
    tab.camera_list.selectRow(0)
    tab.test_camera_button.click()
    qtbot.waitUntil(lambda: tab.preview.pixmap() is not None and not tab.preview.pixmap().isNull(), timeout=15000)
    tab.pages.setCurrentIndex(2)
    box = tab.entries
    photos = [s.photo for s in demo_subjects()] + [DATA / "img16.jpg"]
    for n, photo in enumerate(photos, start=1):
        for key, text in (("record_number", f"MP-{n:03d}"), ("subject_name", f"Missing person {n}"),
                          ("legal_basis", "missing person, at risk"), ("reason", "reported missing, vulnerable"),
                          ("image_source", "family photo"), ("image_date", "2024-01-01"),
                          ("review_date", "2099-01-01")):
            box.fields[key].setText(text)
        box.photo_path.setText(str(photo))
        box.add_button.click()
        qtbot.waitUntil(lambda n=n: box.list.rowCount() == n, timeout=20000)
    assert [r["photos"] for r in box.rows] == [1, 1, 1]
    tab.pages.setCurrentIndex(0)
    for check in tab.checks.values():
        check.click()
        qtbot.waitUntil(lambda c=check: c.isChecked() and not c.isEnabled(), timeout=10000)
    tab.authorise_note.setText("signage up, watchlist reviewed, DPIA current")
    tab.authorise_button.click()
    qtbot.waitUntil(lambda: "State: AUTHORISED" in tab.state.text(), timeout=10000)
    jobs.wait(5000)
    dialog.close()
    frozen_watchlist = store.one("SELECT watchlist_sha256 FROM deployments WHERE id = ?", (dep,))["watchlist_sha256"]
    store.close()

    # 3. Operator 1 starts the console on the data directory and signs in; recognition runs on the
    #    video and raises alerts.
    errors = []  # a deployment that cannot start says so in a message box: here, the test fails at once
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text, *a: errors.append(text))
    args = argparse.Namespace(data_dir=data, providers="cpu", model_pack=None, demo=False)
    win = start_window(args, cameras=1, quiet=True, login=True)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    try:
        qtbot.waitUntil(lambda: getattr(win, "login_dialog", None) is not None, timeout=15000)
        sign_in(qtbot, win.login_dialog, "op1", OP1_PW)
        qtbot.waitUntil(lambda: bool(errors) or (win.live is not None and win.live.operator.username == "op1"),
                        timeout=60000)
        assert not errors, errors
        assert win.live.deployment_id == dep
        win.activateWindow()
        qtbot.waitUntil(lambda: len(win.alerts.rows) >= 2, timeout=60000)  # both subjects seen
        assert {r["watchlist_sha256"] for r in rows(db, "SELECT watchlist_sha256 FROM alerts")} == {frozen_watchlist}

        # Operator 1 decides one in the adjudication view: C asks, Enter confirms; then the outcome.
        first = open_row(qtbot, win)
        qtbot.keyClick(win, Qt.Key.Key_C)
        assert win.view.mode == "confirm"
        qtbot.keyClick(win, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: decided(db, first), timeout=10000)
        qtbot.waitUntil(lambda: win.view.mode == "outcome", timeout=5000)
        qtbot.keyClick(win, Qt.Key.Key_1)
        qtbot.keyClick(win, Qt.Key.Key_4)
        qtbot.keyClick(win, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(rows(db, "SELECT id FROM engagements WHERE alert_id = ?", (first,))),
                        timeout=10000)
        decision = rows(db, "SELECT u.username, d.decision FROM decisions d JOIN users u ON u.id = d.user_id"
                            " WHERE d.alert_id = ?", (first,))[0]
        assert (decision["username"], decision["decision"]) == ("op1", "true_alert")
        qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=30000)
        held = open_row(qtbot, win)  # open when the shift ends: the hand-over releases it

        # 4. Shift change: operator 1 signs out, the hand-over lists what waits, operator 2 signs in.
        lines = hand_over_to(qtbot, win, "op2", OP2_PW)
        assert lines and any("released by you" in line for line in lines)
        assert rows(db, "SELECT claimed_by FROM alerts WHERE id = ?", (held,))[0][0] is None
        handover = json.loads(rows(db, "SELECT details_json FROM audit_log WHERE action = 'shift.handover'")[-1][0])
        assert handover["pending"] >= 1 and handover["claims_released"] >= 1
        qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=15000)
        assert "op2" in win.status_labels["user"].text()

        # Operator 2 escalates one, with a note (E, the note, Enter): it leaves the operator's queue.
        escalated = open_row(qtbot, win)
        qtbot.keyClick(win, Qt.Key.Key_E)
        assert win.view.mode == "escalate"
        win.view.escalate_page.note.setText("hair and build differ from the photo: supervisor please")
        qtbot.keyClick(win.view.escalate_page.note, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: rows(db, "SELECT escalated_at FROM alerts WHERE id = ?", (escalated,))[0][0]
                        is not None, timeout=10000)
        qtbot.waitUntil(lambda: all(escalated not in (r["id"], *r.get("sighting_ids", ())) for r in win.alerts.rows),
                        timeout=10000)

        # 5. The supervisor takes the seat: the escalated incident is at the top, with its note, and
        #    is decided with a note of their own (R, a reason, Enter, the note, Enter).
        hand_over_to(qtbot, win, "sup", SUP_PW)
        qtbot.waitUntil(lambda: bool(win.alerts.rows) and bool(win.alerts.rows[0].get("escalation_note")), timeout=15000)
        assert win.alerts.rows[0]["escalation_note"] == "hair and build differ from the photo: supervisor please"
        assert open_row(qtbot, win) == escalated
        qtbot.keyClick(win, Qt.Key.Key_R)
        qtbot.keyClick(win, Qt.Key.Key_1)
        qtbot.keyClick(win, Qt.Key.Key_Return)
        assert win.view.mode == "note"
        win.view.escalate_page.note.setText("not the subject: older man, different build")
        qtbot.keyClick(win.view.escalate_page.note, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: decided(db, escalated), timeout=10000)
        sup_decision = rows(db, "SELECT u.username, d.reason FROM decisions d JOIN users u ON u.id = d.user_id"
                                " WHERE d.alert_id = ?", (escalated,))[0]
        assert tuple(sup_decision) == ("sup", "not the subject: older man, different build")

        # 6. The supervisor ends the deployment (F9, Deployment tab) ...
        win.activateWindow()
        win.actions_by_name[Act.SUPERVISE].trigger()
        qtbot.waitUntil(lambda: isinstance(getattr(win, "supervision", None), SupervisionDialog), timeout=5000)
        supervision = win.supervision
        qtbot.waitUntil(lambda: "Threshold in force" in supervision.dep_facts.text(), timeout=15000)
        supervision.deployment.end_button.click()
        qtbot.waitUntil(lambda: rows(db, "SELECT state FROM deployments WHERE id = ?", (dep,))[0][0] == "ended",
                        timeout=10000)
        supervision.close()
        # ... and decides what recognition raised meanwhile, in the adjudication view.
        for _ in range(40):
            undecided = rows(db, "SELECT COUNT(*) FROM alerts a WHERE a.deployment_id = ? AND a.status = 'pending'",
                             (dep,))[0][0]
            if not undecided:
                break
            qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=10000)
            alert = open_row(qtbot, win)
            qtbot.keyClick(win, Qt.Key.Key_R)
            qtbot.keyClick(win, Qt.Key.Key_1)
            qtbot.keyClick(win, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda a=alert: decided(db, a), timeout=10000)

        # 7. The record (F10): sign-off through the confirmation dialog, with the password; export.
        win.actions_by_name[Act.REVIEW].trigger()
        qtbot.waitUntil(lambda: isinstance(getattr(win, "review_window", None), ReviewWindow), timeout=5000)
        review_window = win.review_window
        review_window.tabs.setCurrentIndex(2)
        record = review_window.record
        qtbot.waitUntil(lambda: "Draft" in record.record.text(), timeout=15000)
        record.sign_button.click()
        qtbot.waitUntil(lambda: isinstance(getattr(record, "confirm", None), SignOffDialog), timeout=15000)
        confirm = record.confirm
        assert confirm.sign.isEnabled() and not confirm.refusal.isVisible(), confirm.refusal.text()
        assert "Op Riverside" in confirm.windowTitle()
        confirm.note.setText("checked against the decision log")
        confirm.password.setText(SUP_PW)
        confirm.sign.click()
        qtbot.waitUntil(lambda: "Signed" in record.record.text(), timeout=20000)
        out_json, out_pdf = tmp_path / "record.json", tmp_path / "record.pdf"
        for out in (out_json, out_pdf):
            record.export_path.setText(str(out))
            [b for b in record.findChildren(type(record.sign_button)) if b.text() == "Export record"][0].click()
            qtbot.waitUntil(lambda o=out: o.exists() and f"Wrote {o}" in review_window.message.text(), timeout=30000)
        review_window.close()
    finally:
        win.shutdown()

    # The export is the frozen record, byte for byte; the PDF is a PDF; the log verifies.
    with open_store(data) as check:
        frozen = signing.frozen(check, dep)
        assert frozen is not None and frozen["username"] == "sup"
        exported = json.loads(out_json.read_text())
        assert signing.canonical(exported["signed_record"]) == frozen["record_json"]
        assert exported["addendum"] is None
        record_body = exported["signed_record"]
        assert record_body["signed_off"][0]["note"] == "checked against the decision log"
        assert out_pdf.read_bytes()[:5] == b"%PDF-" and out_pdf.stat().st_size > 2000
        escalations = record_body.get("escalations")
        assert escalations and escalations.get("still_open") == 0
        result = integrity(check)
        assert result.ok, result.lines()
    by = {r[0]: r[1] for r in rows(db, "SELECT u.username, COUNT(*) FROM decisions d JOIN users u ON u.id = d.user_id"
                                       " GROUP BY u.username")}
    assert by.get("op1") and by.get("sup") and not rows(db, "SELECT id FROM alerts WHERE status = 'pending'")
    assert record_body["escalations"]["incidents"] >= 1 and len(rows(db, "SELECT id FROM alerts")) >= 2
    actions = [r[0] for r in rows(db, "SELECT action FROM audit_log ORDER BY seq")]
    for action in ("user.created", "deployment.created", "deployment.check_ticked", "deployment.authorised",
                   "decision.recorded", "shift.handover", "alert.escalated", "deployment.ended",
                   "report.signed_off", "report.exported"):
        assert action in actions, action
    assert time.monotonic() - started < 150
