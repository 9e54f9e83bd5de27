"""Step 13: a deployment set up without code - the checklist before authorisation, the frozen
watchlist and its amendments, entries edited and removed, cameras with their credential apart."""

import json
from datetime import timedelta

import cv2
import numpy as np
import pytest

from console import clock
from console.errors import MediaError, PermissionDenied
from console.feeds.demo import write_demo_video
from console.services.accounts import auth
from console.services.accuracy import calibration
from console.services.setup import cameras, deployment_setup, deployments, enrol, watchlist_entries
from console.store import governed, repo

PASSWORD = "violet kettle harbour"
CONTEXT_JPEG = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()


def iso(t):
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def entry_spec(n: int, **over) -> repo.EntrySpec:
    fields = dict(record_number=f"R-{n}", subject_name=f"Person {n}", category="wanted_by_courts",
                  legal_basis="warrant", reason="arrest warrant", image_source="custody photo",
                  image_date="2024-01-01", review_date="2099-01-01")
    return repo.EntrySpec(**{**fields, **over})


@pytest.fixture
def setup(store, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    auth.create_user(store, admin, "sup", "Sup", "supervisor", PASSWORD)
    auth.create_user(store, admin, "op", "Op", "operator", PASSWORD)
    sup, op = auth.actor_for(store, "sup"), auth.actor_for(store, "op")
    now = clock.now()
    spec = repo.DeploymentSpec("Op Setup", "Market Square", "robberies here", iso(now - timedelta(hours=1)),
                               iso(now + timedelta(hours=8)), 0.6, 0.0, calibration.load().model_id,
                               legal_basis="common law", dpia_ref="DPIA-7", policy_ref="LFR-3")
    dep = deployments.create(store, sup, spec)
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entries = [enrol.add_entry(store, sup, wl, entry_spec(n)) for n in (1, 2)]
    return {"store": store, "sup": sup, "op": op, "admin": admin, "dep": dep, "wl": wl, "entries": entries}


def authorise(s):
    for item in deployment_setup.CHECKLIST:
        deployment_setup.tick(s["store"], s["sup"], s["dep"], item)
    deployments.authorise(s["store"], s["sup"], s["dep"], "all checks done")


def test_authorise_with_an_incomplete_checklist_is_refused(setup):
    store, sup, dep = setup["store"], setup["sup"], setup["dep"]
    deployment_setup.tick(store, sup, dep, "signage", "six signs on the square")
    with pytest.raises(deployment_setup.SetupError, match="Watchlist reviewed; DPIA current"):
        deployments.authorise(store, sup, dep)
    assert deployments.get(store, dep)["state"] == "draft"
    with pytest.raises(PermissionDenied):  # an operator ticks nothing
        deployment_setup.tick(store, setup["op"], dep, "dpia_current")
    deployment_setup.tick(store, sup, dep, "watchlist_reviewed")
    deployment_setup.tick(store, sup, dep, "dpia_current")
    deployments.authorise(store, sup, dep)
    assert deployments.get(store, dep)["state"] == "authorised"
    ticks = store.query("SELECT details_json FROM audit_log WHERE action = 'deployment.check_ticked'")
    assert [json.loads(r["details_json"])["item"] for r in ticks] == ["signage", "watchlist_reviewed", "dpia_current"]
    with pytest.raises(deployment_setup.SetupError, match="closed at authorisation"):
        deployment_setup.tick(store, sup, dep, "signage")


def test_the_watchlist_is_frozen_at_authorisation_and_edits_need_an_amendment(setup):
    store, sup, dep, first = setup["store"], setup["sup"], setup["dep"], setup["entries"][0]
    authorise(setup)
    frozen = deployments.get(store, dep)["watchlist_sha256"]
    with store.transaction() as conn:
        assert frozen == deployment_setup.snapshot_hash(conn, dep) and len(frozen) == 64
    changed = entry_spec(1, review_date="2098-06-01")
    with pytest.raises(deployment_setup.SetupError, match="frozen when it was authorised"):
        watchlist_entries.edit_entry(store, sup, first, changed)
    with pytest.raises(deployment_setup.SetupError, match="amendment"):
        watchlist_entries.remove_entry(store, sup, first, "arrested yesterday")
    with pytest.raises(deployment_setup.SetupError):
        enrol.add_entry(store, sup, setup["wl"], entry_spec(3))
    assert deployments.get(store, dep)["watchlist_sha256"] == frozen  # nothing changed
    assert watchlist_entries.edit_entry(store, sup, first, changed, amendment="review extended by the court") == \
        ["review_date"]
    amended = deployments.get(store, dep)["watchlist_sha256"]
    assert amended != frozen
    log = json.loads(store.one("SELECT details_json FROM audit_log WHERE action = 'deployment.watchlist_amended'"
                               " ORDER BY seq DESC")["details_json"])
    assert (log["old_sha256"], log["new_sha256"], log["reason"]) == (frozen, amended, "review extended by the court")
    assert governed.verify(store) == []


def test_an_operator_cannot_amend_a_frozen_watchlist(setup):
    authorise(setup)
    with pytest.raises(PermissionDenied):
        watchlist_entries.remove_entry(setup["store"], setup["op"], setup["entries"][0], "gone", amendment="because")


def test_edit_and_remove_one_entry_keep_the_row_and_the_governed_state(setup):
    store, sup, first = setup["store"], setup["sup"], setup["entries"][0]
    assert watchlist_entries.edit_entry(store, sup, first, entry_spec(1, subject_name="Person One", reason="bail")) \
        == ["subject_name", "reason"]
    assert watchlist_entries.edit_entry(store, sup, first, entry_spec(1, subject_name="Person One", reason="bail")) \
        == []
    with pytest.raises(enrol.GovernanceError, match="needs its legal basis"):
        watchlist_entries.edit_entry(store, sup, first, entry_spec(1, legal_basis=" "))
    with pytest.raises(enrol.GovernanceError, match="needs a reason"):
        watchlist_entries.remove_entry(store, sup, first, "")
    watchlist_entries.remove_entry(store, sup, first, "warrant withdrawn")
    row = store.one("SELECT removed_at, subject_name FROM watchlist_entries WHERE id = ?", (first,))
    assert row["removed_at"] and row["subject_name"] == "Person One"  # kept, marked removed
    assert [e["id"] for e in watchlist_entries.entries(store, sup, setup["dep"])] == [setup["entries"][1]]
    log = " ".join(r["details_json"] for r in store.query("SELECT details_json FROM audit_log"))
    assert "Person One" not in log  # a name goes into the log only as its hash
    assert governed.verify(store) == []


def test_every_alert_records_the_snapshot_hash(setup, tmp_path):
    store, sup, dep = setup["store"], setup["sup"], setup["dep"]
    entry = setup["entries"][1]
    image = repo.add_entry_image(store, entry, b"jpeg", np.eye(128, dtype=np.float32)[0], "model-x", {}, "sup")
    authorise(setup)
    deployments.start(store, setup["op"], dep)
    cam = cameras.add(store, sup, dep, "Gate", "rtsp://10.0.0.5/live")

    def alert():
        return repo.insert_alert(store, repo.AlertRecord(dep, cam, 1, [(entry, image, 0.8)], 0.6, "model-x",
                                                         [0, 0, 1, 1], {}, b"probe", CONTEXT_JPEG, iso(clock.now())))

    frozen = deployments.get(store, dep)["watchlist_sha256"]
    a = alert()
    assert store.one("SELECT watchlist_sha256 FROM alerts WHERE id = ?", (a,))["watchlist_sha256"] == frozen
    watchlist_entries.remove_entry(store, sup, setup["entries"][0], "arrested", amendment="arrested this morning")
    b = alert()
    amended = store.one("SELECT watchlist_sha256 FROM alerts WHERE id = ?", (b,))["watchlist_sha256"]
    assert amended == deployments.get(store, dep)["watchlist_sha256"] != frozen


def test_a_camera_credential_is_kept_apart_and_never_shown(setup):
    store, sup, dep = setup["store"], setup["sup"], setup["dep"]
    cam = cameras.add(store, sup, dep, "North gate", "rtsp://10.0.0.5/live", username="viewer", password="s3cret!")
    row = store.one("SELECT * FROM cameras WHERE id = ?", (cam,))
    assert row["source"] == "rtsp://10.0.0.5/live"
    assert cameras.connect_string(store, row) == "rtsp://viewer:s3cret%21@10.0.0.5/live"
    assert cameras.shown(store, sup, dep)[0]["credential"] == "held apart (hidden)"
    log = " ".join(r["details_json"] for r in store.query("SELECT details_json FROM audit_log"))
    assert "s3cret" not in log and "viewer" not in log
    with pytest.raises(PermissionDenied):
        cameras.add(store, setup["op"], dep, "South gate", "webcam:0")


def test_a_camera_test_grabs_a_frame_or_says_why_not(setup, tmp_path):
    video = tmp_path / "demo.mp4"
    write_demo_video(video, 0, seconds=1.0, size=(320, 180))
    cam = cameras.add(setup["store"], setup["sup"], setup["dep"], "Demo file", str(video))
    frame = cameras.test_camera(setup["store"], setup["sup"], cam)
    assert frame.shape == (180, 320, 3)
    with pytest.raises(MediaError, match="no picture from .*does not exist"):
        cameras.grab_frame(str(tmp_path / "missing.mp4"))
    with pytest.raises(MediaError) as dead:  # nothing listens on this port: a clear error, no password in it
        cameras.grab_frame("rtsp://viewer:s3cret@127.0.0.1:9/live", timeout_s=4)
    assert "s3cret" not in str(dead.value) and "no picture from" in str(dead.value)
