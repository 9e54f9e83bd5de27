"""The store on real databases: SQLite files (and its SQLite-only behaviour), and the repository
functions on both SQLite and PostgreSQL (the `db` fixture)."""

import sqlite3

import numpy as np
import pytest

from console.errors import StoreError
from console.store import open_store, repo
from console.store.migrations import LATEST
from console.store.sqlite import DB_NAME
from console.store.sqlite import SqliteStore as Store


def _deployment(store, user_id):
    spec = repo.DeploymentSpec("Op Test", "High Street", "test rationale", "2026-01-01T08:00:00Z",
                               "2026-01-01T18:00:00Z", 0.4, 0.36, "model-x")
    dep = repo.create_deployment(store, spec, user_id, "sup")
    repo.activate_deployment(store, dep, "sup")
    return dep


def _entry(store, wl, user_id, number="R-1", category="wanted_by_courts"):
    return repo.add_entry(store, wl, repo.EntrySpec(number, "Person One", category, "PACE s.24", "warrant",
                                                    "custody photo", "2025-06-01", "2026-02-01"), user_id, "sup")


def test_new_database_is_wal_full_sync_and_latest_schema(tmp_path):
    store = open_store(tmp_path)
    try:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.schema_version == LATEST
        versions = [r["version"] for r in store.query("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == list(range(1, LATEST + 1))
    finally:
        store.close()


def test_migrations_run_forward_one_step_at_a_time_and_keep_data(tmp_path):
    store = Store(tmp_path / DB_NAME)
    assert store.migrate(target=1) == [1]
    assert store.schema_version == 1
    with store.transaction() as conn:  # a row as the step-1 schema holds it (today's code writes today's schema)
        uid = conn.execute("INSERT INTO users(username, display_name, role, created_at) VALUES"
                           " ('sup', 'Supervisor', 'supervisor', '2026-01-01T00:00:00Z')").lastrowid
    assert not store.query("SELECT name FROM sqlite_master WHERE name = 'face_stats'")
    store.close()
    store = open_store(tmp_path)  # migrates the rest on open
    try:
        assert store.schema_version == LATEST
        assert store.query("SELECT name FROM sqlite_master WHERE name = 'face_stats'")
        assert repo.get_user(store, "sup")["id"] == uid
        assert store.migrate() == []  # nothing left to do
    finally:
        store.close()


def test_a_newer_schema_than_this_console_knows_is_refused(tmp_path):
    store = open_store(tmp_path)
    store.conn.execute(f"PRAGMA user_version={LATEST + 5}")
    store.close()
    with pytest.raises(StoreError, match="newer than this console"):
        open_store(tmp_path)


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable console database"):
        open_store(tmp_path)


def test_a_locked_database_is_reported_and_nothing_is_written(tmp_path, monkeypatch):
    import console.store.sqlite as db

    store = open_store(tmp_path)
    other = sqlite3.connect(str(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    store.conn.execute("PRAGMA busy_timeout=200")
    try:
        with pytest.raises(StoreError, match="locked by another program"):
            repo.create_user(store, "op", "Operator", "operator")
        other.execute("ROLLBACK")
        assert repo.get_user(store, "op") is None
        repo.create_user(store, "op", "Operator", "operator")  # works once the lock is gone
        assert repo.get_user(store, "op") is not None
    finally:
        other.close()
        store.close()


def test_watchlist_entries_carry_the_governance_fields_and_categories_are_fixed(db):
    store = db
    uid = repo.create_user(store, "sup", "Supervisor", "supervisor")
    dep = _deployment(store, uid)
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = _entry(store, wl, uid)
    row = store.one("SELECT * FROM watchlist_entries WHERE id = ?", (entry,))
    for field in ("category", "legal_basis", "reason", "image_source", "image_date", "added_by", "review_date"):
        assert row[field]
    with pytest.raises(StoreError):
        _entry(store, wl, uid, "R-2", category="officer_hunch")
    assert store.one("SELECT COUNT(*) AS n FROM watchlist_entries")["n"] == 1


def test_deployment_threshold_cannot_sit_below_its_floor(db):
    store = db
    uid = repo.create_user(store, "sup", "Supervisor", "supervisor")
    spec = repo.DeploymentSpec("Op", "Place", "why", "2026-01-01T08:00:00Z", "2026-01-01T18:00:00Z", 0.30, 0.36, "m")
    with pytest.raises(StoreError):
        repo.create_deployment(store, spec, uid, "sup")


def _alert_fixture(store):
    uid = repo.create_user(store, "sup", "Supervisor", "supervisor")
    op = repo.create_user(store, "op", "Operator", "operator")
    dep = _deployment(store, uid)
    cam = repo.add_camera(store, dep, "Cam 1", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    e1, e2 = _entry(store, wl, uid, "R-1"), _entry(store, wl, uid, "R-2")
    v1 = np.eye(128, dtype=np.float32)[0]
    i1 = repo.add_entry_image(store, e1, b"jpeg-1", v1, "model-x", {"score": 0.9}, "sup")
    i2 = repo.add_entry_image(store, e2, b"jpeg-2", np.eye(128, dtype=np.float32)[1], "model-x", {"score": 0.8}, "sup")
    record = repo.AlertRecord(dep, cam, 7, [(e1, i1, 0.71), (e2, i2, 0.2)], 0.4, "model-x", [1, 2, 3, 4],
                              {"score": 0.8}, b"probe", b"context", "2026-01-01T09:00:00Z")
    return dep, op, repo.insert_alert(store, record), (e1, e2, i1, i2)


def test_gallery_rows_form_one_matrix_per_deployment_and_model(db):
    store = db
    dep, _, _, (e1, e2, i1, i2) = _alert_fixture(store)
    rows = repo.gallery_rows(store, dep, "model-x")
    assert rows.matrix.shape == (2, 128)
    assert list(rows.entry_ids) == [e1, e2] and list(rows.image_ids) == [i1, i2]
    assert repo.gallery_rows(store, dep, "other-model").matrix.size == 0


def test_alert_with_candidates_and_decision_records_the_moment_of_decision(db):
    store = db
    dep, op, alert_id, (e1, e2, i1, _) = _alert_fixture(store)
    pending = repo.pending_alerts(store, dep)
    assert [r["id"] for r in pending] == [alert_id]
    cands = repo.alert_candidates(store, alert_id)
    assert [(c["rank"], c["entry_id"]) for c in cands] == [(1, e1), (2, e2)]
    decision = repo.record_decision(store, alert_id, op, "true_alert", "", "op")
    row = store.one("SELECT * FROM decisions WHERE id = ?", (decision,))
    assert row["model_id"] == "model-x" and row["threshold"] == 0.4 and abs(row["score"] - 0.71) < 1e-9
    assert row["probe_sha256"] == repo.sha256(b"probe") and row["candidate_sha256"] == repo.sha256(b"jpeg-1")
    assert repo.pending_alerts(store, dep) == []
    with pytest.raises(StoreError, match="already decided"):
        repo.record_decision(store, alert_id, op, "false_alert", "", "op")
    correction = repo.record_decision(store, alert_id, op, "false_alert", "misread", "op", supersedes=decision)
    assert store.one("SELECT supersedes FROM decisions WHERE id = ?", (correction,))["supersedes"] == decision


def test_decisions_and_engagements_cannot_be_changed_or_deleted(db):
    store = db
    _, op, alert_id, _ = _alert_fixture(store)
    decision = repo.record_decision(store, alert_id, op, "true_alert", "", "op")
    repo.record_engagement(store, alert_id, op, "confirmed_true", "arrest", "", "op")
    for sql in ("UPDATE decisions SET decision = 'false_alert' WHERE id = ?", "DELETE FROM decisions WHERE id = ?"):
        with pytest.raises(Exception, match="append-only"):
            store.conn.execute(sql, (decision,))
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("DELETE FROM engagements")
    assert store.one("SELECT decision FROM decisions")["decision"] == "true_alert"


def test_settings_round_trip_and_every_change_is_audited(db):
    store = db
    uid = repo.create_user(store, "sup", "Supervisor", "supervisor")
    assert repo.get_setting(store, "deployment/1", "top_k", 3) == 3
    repo.set_setting(store, "deployment/1", "top_k", 5, uid, "sup", "wider review")
    repo.set_setting(store, "deployment/1", "top_k", 4, uid, "sup", "narrower")
    assert repo.get_setting(store, "deployment/1", "top_k") == 4
    changes = store.query("SELECT details_json FROM audit_log WHERE action = 'setting.changed' ORDER BY seq")
    assert [c["details_json"] for c in changes] == [
        '{"governed":{"value":5},"new":5,"old":null,"reason":"wider review"}',
        '{"governed":{"value":4},"new":4,"old":5,"reason":"narrower"}']


def test_face_stats_hold_counts_and_a_histogram_only(db):
    store = db
    dep, _, _, _ = _alert_fixture(store)
    cam = repo.cameras(store, dep)[0]["id"]
    repo.add_face_stats(store, dep, cam, 3, 1, np.array([0.11, 0.15, 0.7]))
    repo.add_face_stats(store, dep, cam, 2, 0, np.array([-0.2, 0.12]))
    row = store.one("SELECT * FROM face_stats")
    assert row["faces_analysed"] == 5 and row["faces_gated"] == 1
    hist = np.array(__import__("json").loads(row["score_hist"]))
    assert hist.sum() == 5 and hist[110:120].sum() == 3  # three scores in [0.1, 0.2)
    assert len(hist) == repo.HIST_BINS and hist[int((0.7 + 1) / 2 * repo.HIST_BINS)] == 1
    if store.dialect == "sqlite":
        cols = [r[1] for r in store.query("PRAGMA table_info(face_stats)")]
    else:
        cols = [r[0] for r in store.query("SELECT column_name FROM information_schema.columns"
                                          " WHERE table_name = 'face_stats'")]
    assert "score_hist" in cols
    assert not {"embedding", "entry_id", "image", "track_id"} & set(cols)
