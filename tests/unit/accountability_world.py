"""The world the accountability tests try to get through: a store with every role, a deployment
inside its window, a camera, a watchlist entry and a way to raise alerts (tests/unit/test_accountability*.py)."""

import json
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from console.services.accounts import auth
from console.services.setup import deployments
from console.store import repo

MODEL = __import__("console.services.accuracy.calibration", fromlist=["load"]).load().model_id  # the calibrated model

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PASSWORD = "violet kettle harbour"  # meets the policy: 12+ characters, no user name, not a common one
# A real (blank) frame: an export blurs bystanders and refuses a context frame it cannot decode.
CONTEXT_JPEG = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()


def audit_trail_details(row) -> dict:
    return json.loads(row["details_json"])


def iso(t):
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def world(store, monkeypatch):
    # The role tables create many users: a cheaper scrypt cost here (the stored hash records its
    # parameters, and test_passwords_are_stored_as_scrypt checks the production cost).
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(store, "admin", "Admin", "a long root passphrase")
    actors = {"administrator": admin}
    for role in ("operator", "supervisor", "engagement_officer", "auditor"):
        auth.create_user(store, admin, role, role.title(), role, PASSWORD)
        actors[role] = auth.actor_for(store, role)
    sup = actors["supervisor"]
    spec = repo.DeploymentSpec("Op Test", "High St", "crime hotspot", iso(NOW - timedelta(hours=1)),
                               iso(NOW + timedelta(hours=8)), 0.40, 0.363, "model-x", legal_basis="common law")
    # model-x has no calibration, so the service would refuse it (a deployment's floor comes from the
    # model's calibration: test_security_*): the record is made at the store layer, as a draft.
    # Authorised as it is made, with no frozen watchlist: these tests change the watchlist freely
    # (freezing it at authorisation: tests/unit/test_deployment_setup.py).
    dep = repo.create_deployment(store, spec, sup.user_id, "sup")
    deployments.start(store, sup, dep, now=NOW)  # active: the database takes alerts only now
    cam = repo.add_camera(store, dep, "Cam", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "P", "wanted_by_courts", "warrant", "reason", "custody",
                                                     "2025-01-01", "2099-01-01"), sup.user_id, "sup")
    image = repo.add_entry_image(store, entry, b"jpeg", np.eye(128, dtype=np.float32)[0], "model-x", {}, "sup")

    def make_alert():
        return repo.insert_alert(store, repo.AlertRecord(dep, cam, 1, [(entry, image, 0.8)], 0.4, "model-x",
                                                         [0, 0, 1, 1], {}, b"probe", CONTEXT_JPEG, iso(NOW)))

    return {"store": store, "actors": actors, "dep": dep, "wl": wl, "cam": cam, "entry": entry,
            "make_alert": make_alert}


def entry_spec(n="R-9", **kw):
    base = {"record_number": n, "subject_name": "S", "category": "missing_person", "legal_basis": "b", "reason": "r",
            "image_source": "s", "image_date": "2024-01-01", "review_date": "2099-01-01"}
    return repo.EntrySpec(**{**base, **kw})
