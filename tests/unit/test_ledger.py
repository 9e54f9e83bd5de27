"""Row digests in the audit log (console/store/ledger.py), on SQLite and PostgreSQL alike, and the
baseline entry a store upgraded to them gets."""

from __future__ import annotations

import numpy as np
import pytest

from console.store import audit, ledger, open_store, repo
from console.store.migrations import LATEST, LEDGER_FROM
from tests.factories import small_deployment


def _raw(store, sql: str, args: tuple = ()) -> None:
    with store.transaction() as conn:
        conn.execute(sql, args)


def test_face_counts_flushed_twice_verify_and_an_inflated_count_does_not(db):
    d = small_deployment(db)
    for n in (5, 7):
        repo.add_face_stats(db, d.deployment_id, d.camera_id, n, 1, np.array([0.1] * n))
    entries = db.query("SELECT details_json FROM audit_log WHERE action = 'face_stats.counted'")
    assert len(entries) == 2  # every flush is logged, with the row's digest
    assert ledger.verify(db) == []
    row = db.one("SELECT day, faces_analysed FROM face_stats")
    assert row["faces_analysed"] == 12
    _raw(db, "UPDATE face_stats SET faces_analysed = faces_analysed + 100000")
    found = ledger.verify(db)
    assert len(found) == 1 and found[0].startswith(f"face_stats {d.deployment_id}/{d.camera_id}/{row['day']} was"
                                                   " changed after its audit entry")


def test_a_row_inserted_and_a_row_deleted_by_hand_are_named_by_table_and_key(db):
    d = small_deployment(db)
    second = repo.create_watchlist(db, d.deployment_id, "second", "sup")
    assert ledger.verify(db) == []
    _raw(db, "INSERT INTO watchlists(deployment_id, name, created_at) VALUES (?, 'rogue', '2026-01-01T00:00:00Z')",
         (d.deployment_id,))
    rogue = db.one("SELECT MAX(id) AS id FROM watchlists")["id"]
    assert ledger.verify(db) == [f"watchlists {rogue} has no audit entry (written outside the console)"]
    _raw(db, "DELETE FROM watchlists WHERE id IN (?, ?)", (second, rogue))
    seq = db.one("SELECT seq FROM audit_log WHERE action = 'watchlist.created' AND subject_id = ?", (str(second),))["seq"]
    assert ledger.verify(db) == [f"watchlists {second} recorded in audit entry {seq} is missing from the database"]


def test_of_refuses_a_column_the_ledger_does_not_cover(db):
    with db.transaction() as conn, pytest.raises(ValueError, match="userinfo is not a column of camera_credentials"):
        ledger.of(conn, "camera_credentials", userinfo="x")


def test_a_store_upgraded_to_the_ledger_gets_one_baseline_entry_for_the_rows_it_had(tmp_path):
    store = open_store(tmp_path / "old", migrate=False)
    try:
        store.migrate(LEDGER_FROM - 1)
        d = small_deployment(store)
        repo.add_face_stats(store, d.deployment_id, d.camera_id, 3, 0, np.array([0.2, 0.3, 0.4]))
        # as an older console wrote it: no digest in the log
        _raw(store, "INSERT INTO purges(rule, ran_at, items, details_json) VALUES ('x', '2026-01-01T00:00:00Z', 0, '{}')")
        assert store.migrate() == list(range(LEDGER_FROM, LATEST + 1))
        base = store.query("SELECT details_json FROM audit_log WHERE action = 'audit.ledger_baseline'")
        assert len(base) == 1 and '"purges"' in base[0]["details_json"]
        assert ledger.verify(store) == []
        assert audit.verify_chain(store).ok
        _raw(store, "UPDATE purges SET items = 99")
        assert ledger.verify(store) == ["purges 1 was changed after its audit entry " + str(
            store.one("SELECT seq FROM audit_log WHERE action = 'audit.ledger_baseline'")["seq"])]
    finally:
        store.close()


def test_a_new_store_gets_no_baseline_entry(store):
    assert store.one("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'audit.ledger_baseline'")["n"] == 0


def test_every_table_of_either_database_is_in_the_one_list(db):
    """The same for PostgreSQL's own tables as the file-holder tests check on SQLite's."""
    from console.store import accounting

    if db.dialect == "sqlite":
        found = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        found = [r["table_name"] for r in db.query("SELECT table_name FROM information_schema.tables"
                                                   " WHERE table_schema = current_schema()")]
    assert "audit_log" in found
    assert accounting.unaccounted(found) == []
