"""Headless workers prove who they are (Step 11): a credential an administrator issues for one
deployment - hashed, expiring, revocable, every use logged. On both databases."""

from __future__ import annotations

import json

import pytest

from console import clock
from console.errors import PermissionDenied
from console.services.accounts import worker_access
from console.services.accounts.auth import actor_for
from console.services.setup import deployments
from console.store import repo
from tests.factories import small_deployment


@pytest.fixture
def room(db):
    d = small_deployment(db, operators=("op",))
    repo.create_user(db, "admin", "Admin", "administrator")
    return d, actor_for(db, "admin")


def _logged(db, action: str) -> list[dict]:
    return [json.loads(r["details_json"]) for r in db.query("SELECT details_json FROM audit_log WHERE action = ?"
                                                             " ORDER BY seq", (action,))]


def test_security_only_an_administrator_issues_a_worker_credential_refused(room):
    d, _admin = room
    for name in ("op", "sup"):
        with pytest.raises(PermissionDenied, match="may not manage workers"):
            worker_access.issue(d.store, actor_for(d.store, name), d.deployment_id, "box")


def test_a_worker_credential_is_stored_hashed_and_each_use_is_logged(room):
    d, admin = room
    issued = worker_access.issue(d.store, admin, d.deployment_id, "box 1", days=2)
    row = d.store.one("SELECT * FROM worker_credentials WHERE id = ?", (issued.credential_id,))
    assert issued.token not in json.dumps(dict(row)) and row["secret_sha256"] != issued.token
    assert issued.token not in json.dumps([dict(r) for r in d.store.query("SELECT * FROM audit_log")])
    worker = worker_access.authenticate(d.store, issued.token, d.deployment_id, host="h1")
    assert worker.role == "worker" and worker.username == "worker:box 1"
    assert _logged(d.store, "worker.authenticated") == [{"credential_id": issued.credential_id, "host": "h1"}]
    deployments.start(d.store, worker, d.deployment_id)  # it may run recognition...
    with pytest.raises(PermissionDenied):
        deployments.stop(d.store, worker, d.deployment_id, "a worker may not")  # ...and nothing else


@pytest.mark.parametrize("attack", ["unknown", "revoked", "expired", "other_deployment"])
def test_security_a_bad_worker_credential_is_refused_and_logged(room, monkeypatch, attack):
    d, admin = room
    issued = worker_access.issue(d.store, admin, d.deployment_id, "box", days=1)
    token, deployment = issued.token, d.deployment_id
    if attack == "unknown":
        token = worker_access.PREFIX + "made-up"
    elif attack == "revoked":
        worker_access.revoke(d.store, admin, issued.credential_id, "box stolen")
    elif attack == "expired":
        later = clock.wall() + 2 * 86400
        monkeypatch.setattr(clock, "_wall", lambda: later)
    else:
        deployment = repo.create_deployment(d.store, repo.DeploymentSpec(
            "Other", "P", "R", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z", 0.4, 0.363, "m"), d.supervisor_id, "sup")
    with pytest.raises(worker_access.CredentialRefused, match="worker credential refused"):
        worker_access.authenticate(d.store, token, deployment)
    assert len(_logged(d.store, "worker.refused")) == 1


def test_security_a_running_worker_learns_its_credential_was_revoked(room):
    d, admin = room
    issued = worker_access.issue(d.store, admin, d.deployment_id, "box")
    worker = worker_access.authenticate(d.store, issued.token, d.deployment_id)
    assert worker_access.still_valid(d.store, worker, d.deployment_id) == ""
    worker_access.revoke(d.store, admin, issued.credential_id, "decommissioned")
    assert worker_access.still_valid(d.store, worker, d.deployment_id) == "revoked"


def test_security_a_credential_longer_than_a_month_is_refused(room):
    d, admin = room
    with pytest.raises(Exception, match="at most 31 days"):
        worker_access.issue(d.store, admin, d.deployment_id, "box", days=365)
