"""Tests that kill the mutants ``python main.py bench mutation --module retention`` found alive:
the bounds of the retention settings and who set them, several deployments purged in one run,
the exact hour a watchlist becomes due, and what a purge writes down (its audit entry and its
purges row). SQLite here; the same code runs on PostgreSQL in tests/unit/test_retention_views.py."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from console.errors import ConsoleError
from console.services.accounts import auth
from console.services.record import retention
from console.store import audit, repo
from tests.factories import small_deployment

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW_TEXT = "2026-03-10T12:00:00.000000Z"  # what the purge stamps: microseconds, UTC as 'Z'


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def admin(store, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    return auth.bootstrap_administrator(store, "admin", "Admin", "a long root passphrase")


# -- configure --------------------------------------------------------------------------------------
@pytest.mark.parametrize("days", [1, 31])
def test_alert_retention_may_be_set_to_either_end_of_its_range(store, admin, days):
    retention.configure(store, admin, days, 1, "policy review")
    assert retention.settings(store) == (days, 1)


@pytest.mark.parametrize("days", [0, 32])
def test_alert_retention_outside_1_to_31_days_is_refused_and_nothing_changes(store, admin, days):
    with pytest.raises(ConsoleError) as refused:
        retention.configure(store, admin, days, 1, "policy review")
    assert str(refused.value) == "alert images are kept between 1 and 31 days"
    assert retention.settings(store) == (31, 1)  # the defaults stand


@pytest.mark.parametrize("hours", [0, 24])
def test_watchlist_purge_may_be_set_to_either_end_of_its_range(store, admin, hours):
    retention.configure(store, admin, 14, hours, "policy review")
    assert retention.settings(store) == (14, hours)


@pytest.mark.parametrize("hours", [-1, 25])
def test_watchlist_purge_beyond_24_hours_is_refused(store, admin, hours):
    with pytest.raises(ConsoleError) as refused:
        retention.configure(store, admin, 14, hours, "policy review")
    assert str(refused.value) == "watchlists are purged within 24 hours of a deployment's end"
    assert retention.settings(store) == (31, 1)


def test_a_retention_change_names_who_made_it_and_why(store, admin):
    retention.configure(store, admin, 14, 2, "new force policy")
    rows = {r["key"]: r for r in store.query("SELECT key, updated_by FROM settings WHERE scope = 'retention'")}
    assert {k: r["updated_by"] for k, r in rows.items()} == {"alert_retention_days": admin.user_id,
                                                            "watchlist_purge_hours": admin.user_id}
    logged = store.query("SELECT actor, subject_id, details_json FROM audit_log WHERE action = 'setting.changed'"
                         " ORDER BY seq")
    assert [(r["actor"], r["subject_id"], json.loads(r["details_json"])) for r in logged] == [
        ("admin", "retention/alert_retention_days", {"old": None, "new": 14, "reason": "new force policy",
                                                         "governed": {"value": 14}}),
        ("admin", "retention/watchlist_purge_hours", {"old": None, "new": 2, "reason": "new force policy",
                                                          "governed": {"value": 2}}),
    ]


# -- alert images -------------------------------------------------------------------------------------
def _stored(store, alert: int, at: datetime) -> None:
    store.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?", (_iso(at), alert))


def test_nothing_due_reports_nothing(store):
    small_deployment(store)
    assert retention.run_purges(store, now=NOW) == retention.PurgeReport(0, 0, 0, 0)
    assert store.query("SELECT * FROM purges") == []


def test_two_old_alerts_are_purged_in_one_run_and_the_run_is_logged_under_retention(store):
    d = small_deployment(store)
    a, b, fresh = d.alert(track=1), d.alert(track=2), d.alert(track=3)
    _stored(store, a, NOW - timedelta(days=40))
    _stored(store, b, NOW - timedelta(days=32))
    _stored(store, fresh, NOW - timedelta(days=2))
    repo.add_alert_view(store, b, b"a better view", 0.9, {}, _iso(NOW - timedelta(days=32)))

    report = retention.run_purges(store, now=NOW)

    assert report == retention.PurgeReport(2, 1, 0, 0)
    purged = {r["id"]: r["purged_at"] for r in store.query("SELECT id, purged_at FROM alerts")}
    assert purged == {a: NOW_TEXT, b: NOW_TEXT, fresh: None}
    entry = store.one("SELECT actor, subject_type, subject_id, details_json FROM audit_log"
                      " WHERE action = 'retention.purged.alert_images'")
    assert (entry["actor"], entry["subject_type"], entry["subject_id"]) == ("retention", "purge", "alert_images")
    details = json.loads(entry["details_json"])
    rows = details.pop("rows")  # the digests of the rows it changed and of its own (console/store/ledger.py)
    assert details == {"items": 2, "alert_ids": [a, b], "views": 1, "older_than": "2026-02-07T12:00:00.000000Z"}
    assert sorted(rows) == ["alert_contexts", "alert_views", "purges"] and len(rows["purges"]) == 1
    row = store.one("SELECT rule, ran_at, items, details_json FROM purges")
    assert (row["rule"], row["ran_at"], row["items"]) == ("alert_images", NOW_TEXT, 2)
    assert json.loads(row["details_json"]) == {"alert_ids": [a, b], "views": 1,
                                               "older_than": "2026-02-07T12:00:00.000000Z"}
    assert audit.verify_chain(store).ok


# -- watchlists of ended deployments ----------------------------------------------------------------------
def _deployment(store, sup: int, name: str, ends: datetime, watchlists: int = 1) -> tuple[int, list[int]]:
    """A deployment whose window ended at ``ends`` (nobody pressed end), with one entry and image
    per watchlist."""
    spec = repo.DeploymentSpec(name, "P", "R", _iso(ends - timedelta(hours=8)), _iso(ends), 0.4, 0.363, "m")
    dep = repo.create_deployment(store, spec, sup, "sup")
    lists = []
    for i in range(watchlists):
        wl = repo.create_watchlist(store, dep, f"{name} list {i}", "sup")
        entry = repo.add_entry(store, wl, repo.EntrySpec(f"{name}-{i}", "P", "missing_person", "b", "r", "s",
                                                         "2025-01-01", "2099-01-01"), sup, "sup")
        repo.add_entry_image(store, entry, b"j", np.ones(128, np.float32), "m", {}, "sup")
        lists.append(wl)
    return dep, lists


def _unpurged_images(store, dep: int) -> int:
    return store.one("SELECT COUNT(*) AS n FROM entry_images i JOIN watchlist_entries e ON e.id = i.entry_id"
                     " JOIN watchlists w ON w.id = e.watchlist_id WHERE w.deployment_id = ? AND i.purged_at IS NULL",
                     (dep,))["n"]


@pytest.fixture
def sup(store):
    return repo.create_user(store, "sup", "Supervisor", "supervisor")


def test_two_ended_deployments_are_both_purged_and_counted_in_one_run(store, sup):
    first, first_lists = _deployment(store, sup, "A", NOW - timedelta(hours=3), watchlists=2)
    second, second_lists = _deployment(store, sup, "B", NOW - timedelta(hours=5))

    report = retention.run_purges(store, now=NOW)

    assert report == retention.PurgeReport(0, 0, 3, 3)
    assert (_unpurged_images(store, first), _unpurged_images(store, second)) == (0, 0)
    rows = store.query("SELECT rule, ran_at, items, details_json FROM purges ORDER BY id")
    assert [(r["rule"], r["ran_at"], r["items"]) for r in rows] == [("watchlist", NOW_TEXT, 2),
                                                                    ("watchlist", NOW_TEXT, 1)]
    # stored as canonical (sorted-key) JSON, like every other details column
    assert rows[0]["details_json"] == json.dumps({"deployment_id": first, "ended": _iso(NOW - timedelta(hours=3)),
                                                  "records_kept": ["A-0", "A-1"], "watchlists": first_lists},
                                                 sort_keys=True)
    logged = store.query("SELECT actor, subject_type, subject_id, details_json FROM audit_log"
                         " WHERE action = 'retention.purged.watchlist' ORDER BY seq")
    assert [(r["actor"], r["subject_type"], r["subject_id"]) for r in logged] == [("retention", "purge", "watchlist")] * 2
    details = json.loads(logged[1]["details_json"])
    assert sorted(details.pop("rows")) == ["entry_images", "purges", "watchlists"]
    assert details == {"items": 1, "deployment_id": second, "watchlists": second_lists,
                       "records_kept": ["B-0"], "ended": _iso(NOW - timedelta(hours=5))}
    assert audit.verify_chain(store).ok


def test_a_deployment_not_yet_due_does_not_hold_up_the_ones_after_it(store, sup):
    recent, _ = _deployment(store, sup, "A", NOW - timedelta(minutes=30))  # listed first, due in 30 minutes
    due, _ = _deployment(store, sup, "B", NOW - timedelta(hours=2))

    report = retention.run_purges(store, now=NOW)

    assert (report.watchlists, report.entry_images) == (1, 1)
    assert (_unpurged_images(store, recent), _unpurged_images(store, due)) == (1, 0)


def test_a_deployment_already_purged_does_not_hold_up_the_ones_after_it(store, sup):
    done, _ = _deployment(store, sup, "A", NOW - timedelta(hours=30))
    assert retention.run_purges(store, now=NOW - timedelta(hours=20)).watchlists == 1
    due, _ = _deployment(store, sup, "B", NOW - timedelta(hours=2))

    report = retention.run_purges(store, now=NOW)

    assert (report.watchlists, report.entry_images) == (1, 1)
    assert _unpurged_images(store, due) == 0


def test_a_watchlist_is_due_exactly_the_set_hours_after_its_deployment_ended(store, sup):
    dep, _ = _deployment(store, sup, "A", NOW - timedelta(hours=1))
    assert retention.run_purges(store, now=NOW - timedelta(microseconds=1)).watchlists == 0
    assert retention.run_purges(store, now=NOW).watchlists == 1
    assert _unpurged_images(store, dep) == 0


# -- the purge list ----------------------------------------------------------------------------------------
def test_the_purge_list_shows_the_latest_fifty_runs_newest_first(store, admin):
    for i in range(60):
        store.conn.execute("INSERT INTO purges(rule, ran_at, items, details_json) VALUES (?,?,?,?)",
                           ("alert_images", _iso(NOW + timedelta(minutes=i)), i, "{}"))
    runs = retention.recent_purges(store, admin)
    assert [r["items"] for r in runs] == list(range(59, 9, -1))
