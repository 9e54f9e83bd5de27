"""Issue 27: every row accounted for, both ways. The tables are read from the real store
(sqlite_master), so a new table without an account fails here until console/store/accounting.py
places it. For each accounted table, on a copy of a selftest store with a witness checkpoint (then
filled through the services so that every table holds a row), the file's holder drops the triggers
and inserts, deletes or edits one row: ``audit verify`` must fail naming that table. The machinery
is benchmarks/file_holder_attack.py's, which prints the same per table."""

from __future__ import annotations

import sqlite3

import pytest

from benchmarks import file_holder_attack as holder
from console.services.record import signing
from console.store import accounting, open_store
from tests.integration.test_cli import run

DB = holder.DB


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(data dir, witness dir): the selftest store, filled, checkpointed; it verifies clean."""
    return holder.build(tmp_path_factory.mktemp("accounted"))


def _copy(built, tmp_path) -> sqlite3.Connection:
    return holder.copy(built[0], tmp_path / "copy")


def _verify(built, tmp_path) -> list[str]:
    result = holder.verify(tmp_path / "copy", built[1])
    assert not result.ok
    return result.lines()


def _done(conn: sqlite3.Connection) -> None:
    conn.commit()
    conn.close()


ACCOUNTED = sorted(accounting.ACCOUNTED)


def test_every_table_of_the_real_store_is_accounted_for_or_said_not_to_be_evidence(built):
    found = holder.tables(built[0] / DB)
    assert accounting.unaccounted(found) == []
    assert accounting.unaccounted([*found, "brand_new"]) == [
        "new table brand_new: say how audit verify accounts for it (console/store/accounting.py)"]
    assert not set(accounting.ACCOUNTED) & set(accounting.NOT_EVIDENCE)
    assert set(ACCOUNTED) <= set(found), "accounted for, but not a table of the store"


@pytest.mark.parametrize("table", ACCOUNTED)
def test_every_column_of_an_accounted_table_is_covered_or_said_why_not(built, table):
    with sqlite3.connect(built[0] / DB) as c:
        columns = [r[1] for r in c.execute(f"PRAGMA table_info({table})")]
    account = accounting.ACCOUNTED[table]
    loose = [c for c in columns if c not in account.columns and c not in account.uncovered]
    assert loose == [], f"{table}: columns neither covered nor said why not: {loose}"
    assert set(account.columns) <= set(columns), f"{table}: covers columns it does not have"


def test_a_copy_whose_holder_only_dropped_the_triggers_still_verifies(built, tmp_path):
    """The attacks below fail verify because of what they changed, not because of the copy."""
    _done(_copy(built, tmp_path))
    result = holder.verify(tmp_path / "copy", built[1])
    assert result.ok, result.lines()
    assert result.signoffs.signed == 1


@pytest.mark.parametrize("attack", holder.ATTACKS)
@pytest.mark.parametrize("table", ACCOUNTED)
def test_security_a_row_changed_by_the_file_holder_fails_audit_verify_naming_its_table(built, tmp_path, table,
                                                                                     attack):
    caught, lines = holder.attack(built[0], built[1], tmp_path / "copy", table, attack)
    assert caught, (table, attack, lines)


COVERED = [(t, c) for t in ACCOUNTED for c in accounting.ACCOUNTED[t].columns if c not in accounting.ACCOUNTED[t].key]


@pytest.mark.parametrize(("table", "column"), COVERED, ids=[f"{t}.{c}" for t, c in COVERED])
def test_security_an_edit_of_any_covered_column_fails_audit_verify(built, tmp_path, table, column):
    """What accounting.py says a table's account covers, it covers: each column edited alone."""
    caught, lines = holder.attack(built[0], built[1], tmp_path / "copy", table, "edit", column)
    assert caught, (table, column, lines)


# -- the four the issue found missed ----------------------------------------------------------------
def test_security_a_sign_off_row_put_in_by_hand_signs_nothing(built, tmp_path):
    conn = _copy(built, tmp_path)
    draft = conn.execute("SELECT id FROM deployments WHERE name = 'Op Draft'").fetchone()["id"]
    conn.execute("INSERT INTO report_signoffs(deployment_id, user_id, signed_at, record_sha256, note, record_json)"
                 " VALUES (?, 2, '2026-01-01T00:00:00Z', ?, 'forged', '{}')", (draft, "0" * 64))
    _done(conn)
    store = open_store(tmp_path / "copy")
    try:
        assert signing.frozen(store, draft) is None  # not "signed and frozen"
        assert signing.document(store, draft)["signed"] is False
        assert signing.frozen(store, 1) is not None  # the real sign-off still is
    finally:
        store.close()
    verified = run("audit", "verify", "--data-dir", tmp_path / "copy", "--witness", built[1])
    assert verified.returncode == 1, verified.stdout
    assert any(line.startswith("record check FAILED: report_signoffs ") and "has no audit entry" in line
               for line in verified.stdout.splitlines()), verified.stdout


def test_security_a_sign_off_row_whose_record_was_rewritten_is_no_longer_signed(built, tmp_path):
    conn = _copy(built, tmp_path)
    import json

    record = json.loads(conn.execute("SELECT record_json FROM report_signoffs WHERE id = 1").fetchone()[0])
    record["faces_analysed"] = record.get("faces_analysed", 0) + 100000
    conn.execute("UPDATE report_signoffs SET record_json = ? WHERE id = 1", (json.dumps(record, sort_keys=True),))
    _done(conn)
    store = open_store(tmp_path / "copy")
    try:
        assert signing.frozen(store, 1) is None
    finally:
        store.close()
    assert any(line.startswith("report_signoffs 1 was changed") for line in _verify(built, tmp_path))


def test_security_an_alert_deleted_while_its_decision_stays_is_caught(built, tmp_path):
    conn = _copy(built, tmp_path)
    conn.execute("DELETE FROM alerts WHERE id = 2")
    _done(conn)
    assert any(line.startswith("alert 2 recorded in audit entry") and "missing" in line
               for line in _verify(built, tmp_path))


def test_security_face_counts_inflated_by_100000_are_caught(built, tmp_path):
    conn = _copy(built, tmp_path)
    conn.execute("UPDATE face_stats SET faces_analysed = faces_analysed + 100000")
    _done(conn)
    lines = _verify(built, tmp_path)
    assert any(line.startswith("face_stats 1/1/") and "changed after its audit entry" in line for line in lines), lines


def test_security_a_worker_credential_nobody_issued_is_caught(built, tmp_path):
    conn = _copy(built, tmp_path)
    conn.execute("INSERT INTO worker_credentials(deployment_id, label, secret_sha256, issued_by, issued_at, expires_at)"
                 " VALUES (1, 'rogue', ?, 3, '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z')", ("1" * 64,))
    _done(conn)
    lines = _verify(built, tmp_path)
    assert any(line.startswith("worker_credentials ") and "has no audit entry" in line for line in lines), lines


def test_a_watchlist_has_no_threshold_of_its_own_any_more(built):
    with sqlite3.connect(built[0] / DB) as c:
        assert "threshold" not in [r[1] for r in c.execute("PRAGMA table_info(watchlists)")]
