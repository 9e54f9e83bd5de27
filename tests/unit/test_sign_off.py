"""Sign-off: only an ended deployment with nothing undecided or escalated; the signed record is
frozen, every later export is the same bytes, and later changes appear as a dated addendum. The
record says what it should (threshold changes, escalations, decision times, false rates,
engagement outcomes, equality with counts, clock jumps, the calibration)."""

import json

import numpy as np
import pytest

from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.record import reports, signing, stats
from console.services.setup import deployments, operating_point
from console.store import audit, repo
from tests.factories import SUPERVISOR_PASSWORD, password_hash


def _deployment(store, name="Op Signed"):
    sup = repo.create_user(store, f"sup{name[-1]}", "Supervisor", "supervisor", password_hash=password_hash())
    dep = repo.create_deployment(store, repo.DeploymentSpec(name, "Station Sq", "why", "2026-01-01T08:00:00Z",
                                                            "2026-01-01T18:00:00Z", 0.4, 0.363, "m",
                                                            incident_window_s=0), sup, "sup")
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec(f"R-{name}", "P", "wanted_by_courts", "b", "r", "s", "2025-01-01",
                                                     "2099-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"j", np.ones(128, np.float32), "m", {}, "sup")
    ids = [repo.insert_alert(store, repo.AlertRecord(dep, cam, i, [(entry, image, score)], 0.4, "m", [0, 0, 1, 1], {},
                                                     b"p", b"c", f"2026-01-01T09:{i:02d}:00Z"))
           for i, score in enumerate((0.41, 0.55, 0.62, 0.80))]
    repo.add_face_stats(store, dep, cam, 2000, 50, np.array([0.1] * 1996 + [0.41, 0.55, 0.62, 0.8]))
    return dep, ids


@pytest.fixture
def world(store):
    dep, ids = _deployment(store)
    repo.create_user(store, "op", "Operator", "operator")
    repo.create_user(store, "aud", "Auditor", "auditor")
    return store, dep, ids, actor_for(store, "supd"), actor_for(store, "op")


def _decide_all(store, dep, ids, sup, op):
    operating_point.write_threshold(store, dep, 0.45, "supd", {"old": 0.4, "new": 0.45, "reason": "too many false"})
    audit.append(store, "system", "clock.jumped", "deployment", dep, {"by_s": -120.0, "now": "2026-01-01T10:00:00Z"})
    adjudication.open_alert(store, op, ids[0])
    adjudication.reject(store, op, ids[0], "look_alike")
    adjudication.open_alert(store, op, ids[1])
    adjudication.reject(store, op, ids[1], "different_person")
    adjudication.open_alert(store, op, ids[2])
    adjudication.confirm(store, op, ids[2])
    adjudication.open_alert(store, op, ids[3])
    adjudication.escalate(store, op, ids[3], "not sure: a twin?")
    adjudication.open_alert(store, sup, ids[3])
    adjudication.confirm(store, sup, ids[3], "the scar matches")
    engagement = adjudication.record_outcome(store, op, ids[3], "confirmed_true", "arrest")
    stats.record_demographics(store, sup, engagement, "female", "not_stated")


def test_sign_off_is_refused_on_a_live_deployment(world):
    store, dep, ids, sup, op = world
    _decide_all(store, dep, ids, sup, op)
    with pytest.raises(signing.SignOffRefused, match="active.*ended"):
        reports.sign_off(store, sup, dep, "", SUPERVISOR_PASSWORD)
    assert store.one("SELECT COUNT(*) AS n FROM report_signoffs")["n"] == 0
    assert store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'report.sign_off_refused'")["n"] == 1


def test_sign_off_is_refused_with_undecided_or_escalated_alerts(world):
    store, dep, ids, sup, op = world
    adjudication.open_alert(store, op, ids[0])
    adjudication.escalate(store, op, ids[0], "need a supervisor")
    deployments.end(store, sup, dep, "done")
    with pytest.raises(signing.SignOffRefused, match="1 escalated incident"):
        reports.sign_off(store, sup, dep, "", SUPERVISOR_PASSWORD)
    adjudication.open_alert(store, sup, ids[0])
    adjudication.reject(store, sup, ids[0], "different_person", "another man: the ears differ")  # escalated: a note
    with pytest.raises(signing.SignOffRefused, match="3 incident\\(s\\) are still undecided"):
        reports.sign_off(store, sup, dep, "", SUPERVISOR_PASSWORD)
    preview = signing.preview(store, sup, dep)
    assert "undecided" in preview["refusal"] and preview["record"]["undecided_incidents"] == 3
    assert store.one("SELECT COUNT(*) AS n FROM report_signoffs")["n"] == 0


@pytest.mark.parametrize("suffix", [".json", ".pdf", ".csv"])
def test_sign_off_freezes_the_record_and_later_exports_are_the_same_bytes(world, tmp_path, suffix):
    from ui.record_pdf import render_record_pdf

    store, dep, ids, sup, op = world
    _decide_all(store, dep, ids, sup, op)
    deployments.end(store, sup, dep, "done")
    assert signing.preview(store, sup, dep)["refusal"] is None
    digest = reports.sign_off(store, sup, dep, "checked against the log", SUPERVISOR_PASSWORD)
    aud = actor_for(store, "aud")
    first = reports.export_record(store, aud, dep, tmp_path / f"one{suffix}", render_record_pdf).read_bytes()
    # More activity: another deployment raises and decides alerts, people sign in, more exports, checkpoints.
    other, other_ids = _deployment(store, "Op Other")
    adjudication.open_alert(store, op, other_ids[0])
    adjudication.confirm(store, op, other_ids[0])
    reports.export_record(store, sup, dep, tmp_path / "between.json")
    audit.append(store, "demo", "user.signed_in", "user", 1, {})
    second = reports.export_record(store, aud, dep, tmp_path / f"two{suffix}", render_record_pdf).read_bytes()
    assert first == second
    if suffix == ".json":
        signed = json.loads(first)["signed_record"]
        assert reports.record_digest(signed) == digest and json.loads(first)["addendum"] is None
        assert signed["signed_off"][0]["username"] == "supd" and signed["faces_analysed"] == 2000
    if suffix == ".pdf":
        assert first.startswith(b"%PDF") and b"Qt" in first  # drawn by QPdfWriter
    with pytest.raises(signing.SignOffRefused, match="signed off by supd"):
        reports.sign_off(store, sup, dep, "", SUPERVISOR_PASSWORD)


def test_a_later_change_appears_as_a_dated_addendum_and_the_signed_body_stays(world, tmp_path):
    from ui.record_pdf import render_record_pdf

    store, dep, ids, sup, op = world
    _decide_all(store, dep, ids, sup, op)
    deployments.end(store, sup, dep, "done")
    reports.sign_off(store, sup, dep, "", SUPERVISOR_PASSWORD)
    before = json.loads(reports.export_record(store, sup, dep, tmp_path / "a.json").read_bytes())
    pdf_before = reports.export_record(store, sup, dep, tmp_path / "a.pdf", render_record_pdf).read_bytes()
    adjudication.record_outcome(store, op, ids[2], "not_located", "no_further_action")  # a late engagement outcome
    after = json.loads(reports.export_record(store, sup, dep, tmp_path / "b.json").read_bytes())
    assert after["signed_record"] == before["signed_record"]
    extra = after["addendum"]
    assert extra and extra["as_of"] > before["signed_record"]["signed_off"][0]["signed_at"]
    assert [c["what"] for c in extra["changes"]] == [
        f"Engagement outcome recorded \u00b7 Not located \u00b7 No further action (alert {ids[2]})"]
    assert [f["field"] for f in extra["figures"]] == ["engagements", "engagements_recorded_by"]
    pdf_after = reports.export_record(store, sup, dep, tmp_path / "b.pdf", render_record_pdf).read_bytes()
    assert pdf_after != pdf_before and pdf_after.count(b"/Type /Page\n") > pdf_before.count(b"/Type /Page\n")
    live = reports.deployment_record(store, sup, dep)
    assert {(e["result"], e["count"]) for e in live["engagements"]} == {("confirmed_true", 1), ("not_located", 1)}


def test_the_record_holds_every_figure_it_promises(world):
    store, dep, ids, sup, op = world
    _decide_all(store, dep, ids, sup, op)
    r = reports.deployment_record(store, sup, dep)
    assert r["record_format"] == 4
    assert [(c["old"], c["new"], c["reason"], c["by"]) for c in r["threshold_changes"]] == [
        (0.4, 0.45, "too many false", "supd")]
    assert r["escalations"]["incidents"] == 1 and r["escalations"]["still_open"] == 0
    tt = r["time_to_decision"]
    assert tt["decisions"] == 4 and 0 <= tt["median_s"] <= tt["p90_s"] < 60
    assert (r["incidents"], r["alerts"], r["true_incidents"], r["false_incidents"]) == (4, 4, 2, 2)
    assert r["false_alerts"] == 2 and r["false_alerts_per_1000_faces"] == 1.0 and r["false_alerts_per_alert"] == 0.5
    assert r["false_incidents_per_1000_faces"] == 1.0
    assert r["reject_reasons"] == {"different_person": 1, "look_alike": 1}
    assert [(e["result"], e["action"], e["count"]) for e in r["engagements"]] == [("confirmed_true", "arrest", 1)]
    eq = r["equality"]
    assert eq["engagements_with_demographics"] == 1
    assert eq["sex"]["female"] == {"engaged": 1, "false_at_engagement": 0, "rate": 0.0, "too_few_to_compare": True}
    assert [j["by_s"] for j in r["clock_jumps"]] == [-120.0]
    assert r["calibration"]["model_id"] == "m" and "calibrated" in r["calibration"]
    assert sum(h["alerts"] for h in r["per_hour"]) == 4 and r["per_hour"][0]["hour"].endswith(":00:00Z")
