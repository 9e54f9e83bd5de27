"""Worker credentials at their edges and in their log entries, exactly (mutation check, issue 32):
the lifetime's bounds, the expiry instant, who may issue, list and revoke, and what each use
leaves in the audit log. SQLite; tests/unit/test_security_workers.py runs both databases."""

from __future__ import annotations

import json

import pytest

from console import clock
from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import worker_access as wa
from console.services.accounts.auth import Actor, actor_for
from console.store import ledger, repo
from tests.factories import small_deployment

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.fixture
def wall(monkeypatch):
    now = [T0]
    monkeypatch.setattr(clock, "_wall", lambda: now[0])
    return now


@pytest.fixture
def room(store, wall):
    d = small_deployment(store, operators=("op",))
    repo.create_user(store, "admin", "Admin", "administrator")
    return store, d.deployment_id, actor_for(store, "admin")


def _log(store, action):
    return [(r["actor"], r["subject_type"], r["subject_id"], json.loads(r["details_json"]))
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def _refused(fn, *args) -> str:
    with pytest.raises(ConsoleError) as caught:
        fn(*args)
    return str(caught.value)


def test_issue_logs_the_credential_and_returns_its_expiry(room):
    store, dep, admin = room
    issued = wa.issue(store, admin, dep, "  rack-3  ", days=2)
    assert issued.expires_at == "2027-01-17T08:00:00Z"
    assert issued.token.startswith(wa.PREFIX) and len(issued.token) == len(wa.PREFIX) + 43
    with store.transaction() as conn:
        rows = ledger.of(conn, "worker_credentials", id=issued.credential_id)
    assert rows
    assert _log(store, "worker.credential_issued") == [
        ("admin", "deployment", str(dep), {"credential_id": issued.credential_id, "label": "rack-3",
                                           "expires_at": "2027-01-17T08:00:00Z", "rows": rows})]
    assert wa.credentials(store, admin, dep)[0]["label"] == "rack-3"


def test_the_lifetime_is_more_than_zero_and_at_most_the_maximum(room):
    store, dep, admin = room
    bounds = f"a worker credential lasts more than 0 and at most {wa.MAX_DAYS} days"
    assert _refused(wa.issue, store, admin, dep, "w", 0) == bounds
    assert _refused(wa.issue, store, admin, dep, "w", wa.MAX_DAYS + 0.01) == bounds
    assert wa.issue(store, admin, dep, "w", wa.MAX_DAYS).expires_at == "2027-02-15T08:00:00Z"
    assert _refused(wa.issue, store, admin, dep, "  ", 1) == "a worker credential needs a label (which machine it is for)"
    assert _refused(wa.issue, store, admin, 9999, "w", 1) == "deployment 9999 does not exist"


def test_a_made_up_or_disabled_administrator_is_refused_and_the_refusal_logged(room):
    store, dep, admin = room
    ghost = Actor(admin.user_id, "admin", "operator")
    for act in (lambda a: wa.issue(store, a, dep, "w"), lambda a: wa.revoke(store, a, 1, "r"),
                lambda a: wa.credentials(store, a, dep)):
        with pytest.raises(PermissionDenied):
            act(ghost)
    forged = Actor(4242, "nobody", "administrator")
    for act in (lambda a: wa.issue(store, a, dep, "w"), lambda a: wa.revoke(store, a, 1, "r"),
                lambda a: wa.credentials(store, a, dep)):
        with pytest.raises(PermissionDenied):
            act(forged)
    refused = store.query("SELECT actor, details_json FROM audit_log WHERE action = 'access.refused'")
    assert [r["actor"] for r in refused] == ["admin"] * 3 + ["nobody"] * 3


def test_revoke_needs_a_reason_names_a_missing_credential_and_is_logged_each_time(room, wall):
    store, dep, admin = room
    issued = wa.issue(store, admin, dep, "w")
    assert _refused(wa.revoke, store, admin, issued.credential_id, " ") == "revoking a worker credential needs a reason"
    assert _refused(wa.revoke, store, admin, 777, "gone") == "worker credential 777 does not exist"
    wall[0] += 60
    wa.revoke(store, admin, issued.credential_id, "stolen laptop")
    wall[0] += 60
    wa.revoke(store, admin, issued.credential_id, "again")
    row = store.one("SELECT revoked_at, revoked_by FROM worker_credentials WHERE id = ?", (issued.credential_id,))
    assert (row["revoked_at"], row["revoked_by"]) == ("2027-01-15T08:01:00Z", admin.user_id)  # the first one holds
    with store.transaction() as conn:
        rows = ledger.of(conn, "worker_credentials", id=issued.credential_id)
    logged = _log(store, "worker.credential_revoked")
    assert logged[0] == ("admin", "deployment", str(dep), {"credential_id": issued.credential_id,
                                                           "reason": "stolen laptop", "rows": rows})
    assert [d["reason"] for *_, d in logged] == ["stolen laptop", "again"]


def test_each_use_is_logged_with_its_reason_and_host(room, wall):
    store, dep, admin = room
    issued = wa.issue(store, admin, dep, "rack-3", days=1)
    with pytest.raises(wa.CredentialRefused, match="unknown credential"):
        wa.authenticate(store, "orcw1.not-a-token", dep, "h1")
    worker = wa.authenticate(store, f"  {issued.token} ", dep)
    assert worker == Actor(-issued.credential_id, "worker:rack-3", "worker")
    assert worker.token == issued.token
    wa.revoke(store, admin, issued.credential_id, "done")
    with pytest.raises(wa.CredentialRefused, match="revoked"):
        wa.authenticate(store, issued.token, dep, "h2")
    assert _log(store, "worker.refused") == [
        ("worker", "deployment", str(dep), {"reason": "unknown credential", "credential_id": None, "host": "h1"}),
        ("worker", "deployment", str(dep), {"reason": "revoked", "credential_id": issued.credential_id, "host": "h2"})]
    assert _log(store, "worker.authenticated") == [
        ("worker:rack-3", "deployment", str(dep), {"credential_id": issued.credential_id, "host": ""})]


def test_a_credential_is_expired_at_its_expiry_second(room, wall):
    store, dep, admin = room
    issued = wa.issue(store, admin, dep, "w", days=1)
    wall[0] = T0 + 86400 - 1
    worker = wa.authenticate(store, issued.token, dep)
    assert wa.still_valid(store, worker, dep) == ""
    assert wa.still_valid(store, worker, dep + 1) == f"issued for deployment {dep}, not {dep + 1}"
    wall[0] = T0 + 86400
    assert wa.still_valid(store, worker, dep) == "expired"
    with pytest.raises(wa.CredentialRefused, match="expired"):
        wa.authenticate(store, issued.token, dep)
    assert wa._iso(clock.now()) == "2027-01-16T08:00:00Z"


def test_the_default_lifetime_is_a_week_and_each_entry_names_its_own_row(room):
    store, dep, admin = room
    first = wa.issue(store, admin, dep, "one")
    second = wa.issue(store, admin, dep, "two")
    assert second.expires_at == "2027-01-22T08:00:00Z"
    wa.revoke(store, admin, first.credential_id, "spare")
    with store.transaction() as conn:
        rows = {c: ledger.of(conn, "worker_credentials", id=c) for c in (first.credential_id, second.credential_id)}
    assert rows[first.credential_id] != rows[second.credential_id]
    assert _log(store, "worker.credential_issued")[1][3]["rows"] == rows[second.credential_id]
    assert _log(store, "worker.credential_revoked")[0][3]["rows"] == rows[first.credential_id]
