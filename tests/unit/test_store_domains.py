"""The store's functions by domain, called as the services call them, on SQLite and PostgreSQL:
each says in its name what it does, and does it on both databases."""

import pytest

from console.store import accounts, decisions, deployments, retention, watchlists
from tests.factories import small_deployment


def test_a_claim_is_taken_once_until_its_lease_runs_out(db):
    d = small_deployment(db, operators=("op1", "op2"))
    alert = d.alert()
    op1, op2 = (int(db.one("SELECT id FROM users WHERE username = ?", (n,))["id"]) for n in ("op1", "op2"))
    with db.transaction() as conn:
        assert decisions.claim_pending(conn, alert, op1, "2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z") == 1
        assert decisions.claim_pending(conn, alert, op2, "2026-01-01T10:00:00Z", "2026-01-01T09:30:00Z") == 0
        assert decisions.claim_holder(conn, alert)["username"] == "op1"
        assert decisions.claim_pending(conn, alert, op2, "2026-01-01T11:00:00Z", "2026-01-01T10:00:00Z") == 1
        assert decisions.other_claim_holder(conn, alert, op1)["username"] == "op2"
        decisions.release_claims(conn, alert, op2)
        assert decisions.claim_holder(conn, alert)["username"] is None


def test_a_login_try_is_counted_only_while_tries_are_left(db):
    d = small_deployment(db)
    with db.transaction() as conn:
        taken = [accounts.take_login_try(conn, d.supervisor_id, 2, "2026-01-01T09:00:00Z") for _ in range(3)]
        assert taken == [True, True, False]
        assert accounts.failed_logins(conn, d.supervisor_id) == 2
        assert accounts.lock_if_out_of_tries(conn, d.supervisor_id, "2026-01-01T09:15:00Z", 2, "2026-01-01T09:00:00Z") == 1
        assert accounts.lock_if_out_of_tries(conn, d.supervisor_id, "2026-01-01T09:15:00Z", 2, "2026-01-01T09:00:00Z") == 0
    assert db.one("SELECT locked_until FROM users WHERE id = ?", (d.supervisor_id,))["locked_until"] == "2026-01-01T09:15:00Z"


def test_an_entry_change_sets_only_governance_fields(db):
    d = small_deployment(db)
    with db.transaction() as conn:
        watchlists.update_entry(conn, d.entry_id, {"reason": "renewed warrant"})
        with pytest.raises(ValueError, match="not a watchlist entry field"):
            watchlists.update_entry(conn, d.entry_id, {"watchlist_id": 99})
    row = watchlists.entry_with_deployment(db, d.entry_id)
    assert (row["reason"], int(row["watchlist_id"]), int(row["deployment_id"])) == (
        "renewed warrant",
        d.watchlist_id,
        d.deployment_id,
    )


def test_purging_an_alerts_images_keeps_the_alert(db):
    d = small_deployment(db)
    old, new = d.alert(track=1), d.alert(track=2)
    with db.transaction() as conn:
        assert retention.unpurged_alerts_before(conn, "2000-01-01T00:00:00Z") == []
        assert sorted(retention.unpurged_alerts_before(conn, "2099-01-01T00:00:00Z")) == [old, new]
        retention.purge_alert_images(conn, [old], "2026-01-02T00:00:00Z")
        assert retention.unpurged_alerts_before(conn, "2099-01-01T00:00:00Z") == [new]
    rows = {int(r["id"]): r for r in db.query("SELECT id, probe_jpeg, purged_at FROM alerts")}
    assert rows[old]["probe_jpeg"] is None and rows[old]["purged_at"] == "2026-01-02T00:00:00Z"
    assert rows[new]["probe_jpeg"] == b"p" and rows[new]["purged_at"] is None
    assert deployments.latest_deployment_id(db) == d.deployment_id
