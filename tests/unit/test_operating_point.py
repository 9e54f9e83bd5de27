"""The calibrated floor is the deployment's floor (issue 14, item 1): it follows the watchlist's
size and the false-alert target, the threshold is never below it (refused, or raised and logged
- the safe direction - when the watchlist grows or the target tightens), and a model with no
calibration keeps its published floor."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from console.errors import ConsoleError, PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.accuracy import calibration
from console.services.setup import deployments, enrol, operating_point
from console.store import repo

MODEL = calibration.load().model_id  # the bundled model's id: its calibration applies


def _iso(t):
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def _deployment(store, model=MODEL, photos=0):
    sup = repo.create_user(store, "sup", "S", "supervisor")
    repo.create_user(store, "op", "O", "operator")
    now = datetime.now(UTC)
    dep = repo.create_deployment(store, repo.DeploymentSpec("D", "P", "R", _iso(now - timedelta(hours=1)),
                                                            _iso(now + timedelta(hours=8)), 0.363, 0.363, model,
                                                            legal_basis="b"), sup, "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    rng = np.random.default_rng(0)
    for i in range(photos):
        entry = repo.add_entry(store, wl, repo.EntrySpec(f"R-{i}", f"P{i}", "missing_person", "b", "r", "s",
                                                         "2024-01-01", "2099-01-01"), sup, "sup")
        v = rng.standard_normal(128).astype(np.float32)
        repo.add_entry_image(store, entry, b"j", v / np.linalg.norm(v), model, {}, "sup")
    return dep, wl


def _floor(n, target=1e-5):
    raw = calibration.threshold_for(n, target)
    return round(np.ceil(raw / 0.005 - 1e-9) * 0.005, 3)


def test_the_floor_follows_the_watchlist_size_and_is_far_above_the_published_threshold(store):
    dep, _ = _deployment(store, photos=40)
    op = operating_point.point(store, dep)
    assert op.calibrated and op.photos == 40 and op.floor == pytest.approx(_floor(40))
    assert op.floor > 0.45  # SFace's published 1:1 threshold, 0.363, lets passers-by through at this size
    assert op.false_alerts_per_100k > 1000  # what 0.363 would cost here, shown before anyone starts


def test_a_threshold_below_the_floor_is_refused(store):
    dep, _ = _deployment(store, photos=40)
    sup = actor_for(store, "sup")
    with pytest.raises(deployments.DeploymentError, match="below the floor .* 40 watchlist photos"):
        deployments.change_threshold(store, sup, dep, _floor(40) - 0.01, "more alerts")
    deployments.change_threshold(store, sup, dep, _floor(40) + 0.01, "a little stricter")
    assert repo.get_deployment(store, dep)["threshold"] == pytest.approx(_floor(40) + 0.01)


def test_starting_raises_a_threshold_below_the_floor_and_logs_it(store):
    dep, _ = _deployment(store, photos=40)
    deployments.start(store, actor_for(store, "op"), dep)
    assert repo.get_deployment(store, dep)["threshold"] == pytest.approx(_floor(40))
    entry = store.one("SELECT actor, details_json FROM audit_log WHERE action = 'deployment.threshold_changed'")
    details = json.loads(entry["details_json"])
    assert entry["actor"] == "op" and details["old"] == 0.363 and "calibrated floor" in details["reason"]
    assert details["photos"] == 40


def test_a_stricter_target_raises_the_threshold_and_a_looser_one_than_1_in_10000_is_refused(store):
    dep, _ = _deployment(store, photos=40)
    sup = actor_for(store, "sup")
    op = operating_point.set_target(store, sup, dep, 1e-6, "high-footfall station")
    assert op.floor == pytest.approx(_floor(40, 1e-6)) and op.floor > _floor(40)
    assert repo.get_deployment(store, dep)["threshold"] == pytest.approx(op.floor)
    for bad in (1e-3, 0.0, -1e-5, float("nan")):
        with pytest.raises(calibration.TargetRefused):
            operating_point.set_target(store, sup, dep, bad, "more alerts")
    with pytest.raises(ConsoleError, match="needs a reason"):
        operating_point.set_target(store, sup, dep, 1e-4, " ")
    with pytest.raises(PermissionDenied):
        operating_point.set_target(store, actor_for(store, "op"), dep, 1e-4, "operators may not")
    logged = store.query("SELECT details_json FROM audit_log WHERE action = 'deployment.false_alert_target'")
    assert [json.loads(r["details_json"])["target"] for r in logged] == [1e-6]


def test_a_model_without_calibration_keeps_its_published_floor_and_says_so(store):
    dep, _ = _deployment(store, model="some-other-pack", photos=40)
    op = operating_point.point(store, dep)
    assert not op.calibrated and op.floor == 0.363 and "calibration" in op.note
    deployments.change_threshold(store, actor_for(store, "sup"), dep, 0.37, "just above the published floor")
    before = store.one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    with pytest.raises(deployments.DeploymentError, match="no change: the threshold is 0.370 already"):
        deployments.change_threshold(store, actor_for(store, "sup"), dep, 0.37, "again")
    assert store.one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before  # a no-op logs nothing


def test_enrolling_a_photo_raises_the_threshold_to_the_new_floor(store, engine, photos):
    dep, wl = _deployment(store, model=engine.model_id)
    sup = actor_for(store, "sup")
    entry = enrol.add_entry(store, sup, wl, repo.EntrySpec("R-1", "P", "missing_person", "b", "r", "s",
                                                           "2024-01-01", "2099-01-01"))
    result = enrol.enrol_photo(store, engine, sup, entry, photos("img20.jpg"), "img20.jpg")
    assert repo.get_deployment(store, dep)["threshold"] == pytest.approx(_floor(1))
    assert any("threshold was raised" in w for w in result.warnings)
