"""The set-up tab (F9) driven as a supervisor: a deployment made with no code, end to end."""

import json
from types import SimpleNamespace

import pytest

from console.feeds.demo import write_demo_video
from console.feeds.demo_media import demo_subjects
from console.services.accounts import auth
from console.store import open_store

PASSWORD = "violet kettle harbour"


@pytest.fixture
def live(tmp_path, engine, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    store = open_store(tmp_path / "data")
    admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    auth.create_user(store, admin, "sup", "Sup", "supervisor", PASSWORD)
    yield SimpleNamespace(store=store, deployment_id=None, engine=engine, operator=auth.actor_for(store, "sup"))
    store.close()


def test_end_to_end_setup_of_a_deployment_in_the_window(qtbot, console_app, live, tmp_path):
    from ui.jobs import JobRunner
    from ui.supervision.dialog import ToolDialog
    from ui.supervision.setup import SetupTab

    jobs = JobRunner(threads=1)
    dialog = ToolDialog(live, jobs, "Set up", (1300, 800))
    tab = SetupTab(dialog)
    dialog.add_tabs([(tab, "Set up")])
    qtbot.addWidget(dialog)
    dialog.show()
    tab.refresh()
    qtbot.waitUntil(lambda: "No deployment yet" in tab.state.text(), timeout=10000)
    values = {"name": "Op Market", "location": "Market Square", "rationale": "street robberies",
              "legal_basis": "common law", "dpia": "DPIA-7", "policy": "LFR-3"}
    for key, text in values.items():
        tab.new[key].setText(text)
    tab.create_button.click()
    qtbot.waitUntil(lambda: "State: DRAFT" in tab.state.text(), timeout=10000)
    dep = tab.dep_id

    video = tmp_path / "gate.mp4"
    write_demo_video(video, 0, seconds=2.0, size=(320, 180))
    tab.cam_name.setText("Gate")
    tab.cam_source.setText(str(video))
    tab.add_camera_button.click()
    qtbot.waitUntil(lambda: tab.camera_list.rowCount() == 1, timeout=10000)
    tab.camera_list.selectRow(0)
    tab.test_camera_button.click()
    qtbot.waitUntil(lambda: tab.preview.pixmap() is not None and not tab.preview.pixmap().isNull(), timeout=15000)
    assert "320x180" in dialog.message.text()

    photos = [s.photo for s in demo_subjects()] + [__import__("pathlib").Path("tests/data/img16.jpg").resolve()]
    box = tab.entries
    for n, photo in enumerate(photos, start=1):
        for key, text in (("record_number", f"R-{n}"), ("subject_name", f"Subject {n}"), ("legal_basis", "warrant"),
                          ("reason", "arrest warrant"), ("image_source", "custody suite"),
                          ("image_date", "2024-01-01"), ("review_date", "2099-01-01")):
            box.fields[key].setText(text)
        box.photo_path.setText(str(photo))
        box.add_button.click()
        qtbot.waitUntil(lambda n=n: box.list.rowCount() == n, timeout=20000)
    assert [r["photos"] for r in box.rows] == [1, 1, 1]

    tab.authorise_button.click()  # the checklist is open: refused, in the service's words
    qtbot.waitUntil(lambda: "checklist is not complete" in dialog.message.text(), timeout=10000)
    for check in tab.checks.values():
        check.click()
        qtbot.waitUntil(lambda c=check: c.isChecked() and not c.isEnabled(), timeout=10000)
    tab.authorise_note.setText("all checks done on site")
    tab.authorise_button.click()
    qtbot.waitUntil(lambda: "State: AUTHORISED" in tab.state.text(), timeout=10000)
    assert "Frozen at authorisation" in box.frozen.text()

    box.list.selectRow(0)
    qtbot.waitUntil(lambda: box.fields["record_number"].text() == "R-1", timeout=5000)
    box.fields["review_date"].setText("2098-01-01")
    box.save_button.click()  # frozen: refused without an amendment
    qtbot.waitUntil(lambda: "frozen when it was authorised" in dialog.message.text(), timeout=10000)
    box.amendment.setText("court extended the warrant")
    box.save_button.click()
    qtbot.waitUntil(lambda: "changed: review_date" in dialog.message.text(), timeout=10000)
    jobs.wait(5000)

    store = live.store
    d = store.one("SELECT state, watchlist_sha256, dpia_ref FROM deployments WHERE id = ?", (dep,))
    assert d["state"] == "authorised" and d["dpia_ref"] == "DPIA-7" and len(d["watchlist_sha256"]) == 64
    actions = [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]
    assert actions.count("deployment.check_ticked") == 3 and "deployment.watchlist_amended" in actions
    amended = json.loads(store.one("SELECT details_json FROM audit_log WHERE action = 'deployment.watchlist_amended'")
                         ["details_json"])
    assert amended["new_sha256"] == d["watchlist_sha256"]
