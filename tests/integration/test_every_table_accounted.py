"""Issue 27: every row accounted for, both ways. The tables are read from the real store
(sqlite_master), so a new table without an account fails here until console/store/accounting.py
places it. For each accounted table, on a copy of a selftest store with a witness checkpoint (then
filled through the services so that every table holds a row), the file's holder drops the triggers
and inserts, deletes or edits one row: ``audit verify`` must fail naming that table."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from console import clock
from console.services.accounts import auth, worker_access
from console.services.record import audit_trail, reports, retention, signing, stats
from console.services.setup import cameras, deployment_setup, deployments
from console.store import accounting, open_store, repo
from tests.integration.test_cli import run

PASSWORD = "a long enough passphrase for the supervisor"
DB = "console.sqlite3"


def _tables(path) -> list[str]:
    with sqlite3.connect(path) as c:
        return [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def _fill(store) -> None:
    """Through the services only: a row in every table the selftest leaves empty."""
    admin = auth.actor_for(store, "demo.admin")
    auth.reset_password(store, admin, "demo.supervisor", PASSWORD)
    sup = auth.actor_for(store, "demo.supervisor")
    dep = 1
    worker_access.issue(store, admin, dep, "gate worker")
    alert = store.one("SELECT id, probe_jpeg FROM alerts ORDER BY id LIMIT 1")
    decision = store.one("SELECT id FROM decisions WHERE alert_id = ?", (alert["id"],))["id"]
    repo.add_alert_view(store, alert["id"], bytes(alert["probe_jpeg"]), 0.7, {"score": 0.9}, clock.utcnow())
    repo.add_suppression(store, alert["id"], decision, sup.username)
    engagement = repo.record_engagement(store, alert["id"], sup.user_id, "confirmed_true", "arrest", "", sup.username)
    stats.record_demographics(store, sup, engagement, "female", "not_stated")
    reports.draw_sample(store, sup, dep, 1, seed=1)
    now = clock.now()
    spec = repo.DeploymentSpec("Op Draft", "Quay", "a second site", now.isoformat(timespec="seconds").replace(
        "+00:00", "Z"), (now + timedelta(hours=4)).isoformat(timespec="seconds").replace("+00:00", "Z"), 0.6, 0.0,
        repo.get_deployment(store, dep)["model_id"], legal_basis="common law")
    draft = deployments.create(store, sup, spec)
    deployment_setup.tick(store, sup, draft, next(iter(deployment_setup.CHECKLIST)))
    cameras.add(store, sup, draft, "Quay cam", "rtsp://10.0.0.9/live", "viewer", "s3cret")
    deployments.end(store, sup, dep, "shift over")
    retention.run_purges(store, now + timedelta(days=400))
    signing.sign_off(store, sup, dep, "checked", PASSWORD)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The selftest store, filled, with a witness checkpoint of all of it: (data dir, witness dir)."""
    root = tmp_path_factory.mktemp("accounted")
    data, witness = root / "data", root / "witness"
    made = run("selftest", "--data-dir", data, "--witness", witness)
    assert made.returncode == 0, made.stdout + made.stderr
    store = open_store(data)
    try:
        _fill(store)
        audit_trail.make_checkpoint(store, [witness], "all tables filled")
        clean = audit_trail.integrity(store, [witness])
        assert clean.ok, clean.lines()
    finally:
        store.close()
    return data, witness


def _copy(built, tmp_path):
    data, _ = built
    (tmp_path / "copy").mkdir()
    src, dst = sqlite3.connect(data / DB), sqlite3.connect(tmp_path / "copy" / DB)
    src.backup(dst)
    src.close()
    return dst


def _holder(conn: sqlite3.Connection) -> sqlite3.Connection:
    """What the file's holder does first: every trigger dropped (foreign keys are off on a bare connection)."""
    conn.row_factory = sqlite3.Row
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def _verify(built, tmp_path) -> list[str]:
    store = open_store(tmp_path / "copy")
    try:
        result = audit_trail.integrity(store, [built[1]])
    finally:
        store.close()
    assert not result.ok
    return result.lines()


def _changed(value, column_type: str):
    """A different value of the same kind (valid JSON stays valid JSON)."""
    import json

    if value is None:
        return b"forged" if "BLOB" in column_type else (1 if "INT" in column_type or "REAL" in column_type else "x")
    if isinstance(value, bytes):
        return value + b"forged"
    if isinstance(value, int):
        return value + 1000  # clear of the other rows' values (unique columns)
    if isinstance(value, float):
        return value + 0.05
    try:
        parsed = json.loads(value)
    except ValueError:
        return value + " (forged)"
    return json.dumps({"forged": parsed}) if not isinstance(parsed, str) else json.dumps(parsed + " (forged)")


def _other_code(conn, table: str, column: str, value):
    """Another of the codes a CHECK (column IN (...)) allows, where the column has such a list."""
    import re

    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    found = re.search(rf"\b{column}\b[^,]*CHECK \({column} IN \(([^)]*)\)\)", sql)
    codes = re.findall(r"'(\w+)'", found.group(1)) if found else []
    return next((c for c in codes if c != value), None)


NAMED = {"deployments": "deployment", "users": "user", "cameras": "camera", "watchlist_entries": "entry",
         "settings": "setting", "decisions": "decision", "engagements": "engagement", "alerts": "alert"}


def _names(table: str, lines: list[str]) -> bool:
    """Whether verify's lines name the table (the log itself: its chain is broken)."""
    if table == "audit_log":
        return any(line.startswith("audit chain BROKEN") for line in lines)
    name = NAMED.get(table, table)
    return any(line.startswith(f"{name} ") for line in lines)


def _key_where(account, row) -> tuple[str, tuple]:
    return " AND ".join(f"{k} = ?" for k in account.key), tuple(row[k] for k in account.key)


def _one_row(conn, table: str):
    row = conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchone()
    assert row is not None, f"the fixture left {table} empty: fill it through the services in _fill"
    return row


def _insert_copy(conn, table: str, account) -> None:
    """A new row like an existing one: its key moved past the others, its unique columns changed."""
    row = dict(_one_row(conn, table))
    types = {r["name"]: r["type"].upper() for r in conn.execute(f"PRAGMA table_info({table})")}
    last = account.key[-1]
    if "INT" in types[last]:
        row[last] = conn.execute(f"SELECT MAX({last}) FROM {table}").fetchone()[0] + 1000
    else:
        row[last] = f"{row[last]} (forged)"
    for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
        if index["unique"] and index["origin"] != "pk":
            for col in conn.execute(f"PRAGMA index_info({index['name']})").fetchall():
                if col["name"] not in account.key:
                    row[col["name"]] = _changed(row[col["name"]], types[col["name"]])
    if table == "audit_log":
        row["action"] = "forged.entry"
    conn.execute(f"INSERT INTO {table}({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


ACCOUNTED = sorted(accounting.ACCOUNTED)


def test_every_table_of_the_real_store_is_accounted_for_or_said_not_to_be_evidence(built):
    found = _tables(built[0] / DB)
    assert accounting.unaccounted(found) == []
    assert accounting.unaccounted([*found, "brand_new"]) == [
        "new table brand_new: say how audit verify accounts for it (console/store/accounting.py)"]
    assert not set(accounting.ACCOUNTED) & set(accounting.NOT_EVIDENCE)


@pytest.mark.parametrize("table", ACCOUNTED)
def test_every_column_of_an_accounted_table_is_covered_or_said_why_not(built, table):
    with sqlite3.connect(built[0] / DB) as c:
        columns = [r[1] for r in c.execute(f"PRAGMA table_info({table})")]
    account = accounting.ACCOUNTED[table]
    assert columns, f"{table} is accounted for but not in the store"
    loose = [c for c in columns if c not in account.columns and c not in account.uncovered]
    assert loose == [], f"{table}: columns neither covered nor said why not: {loose}"
    assert set(account.columns) <= set(columns), f"{table}: covers columns it does not have"


@pytest.mark.parametrize("attack", ["insert", "delete", "edit"])
@pytest.mark.parametrize("table", ACCOUNTED)
def test_security_a_row_changed_by_the_file_holder_fails_audit_verify_naming_its_table(built, tmp_path, table,
                                                                                     attack):
    account = accounting.ACCOUNTED[table]
    conn = _holder(_copy(built, tmp_path))
    row = _one_row(conn, table)
    if attack == "insert":
        _insert_copy(conn, table, account)
    elif attack == "delete":
        where, args = _key_where(account, row)
        conn.execute(f"DELETE FROM {table} WHERE {where}", args)
    else:
        # a covered column other than the key; a table covered by its key alone has its row moved
        column = next((c for c in account.columns if c not in account.key), account.key[-1])
        types = {r["name"]: r["type"].upper() for r in conn.execute(f"PRAGMA table_info({table})")}
        where, args = _key_where(account, row)
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (_changed(row[column], types[column]), *args))
    conn.commit()
    conn.close()
    assert _names(table, _verify(built, tmp_path)), (table, attack)


# -- the four the issue found missed ----------------------------------------------------------------
def test_security_a_sign_off_row_put_in_by_hand_signs_nothing(built, tmp_path):
    conn = _holder(_copy(built, tmp_path))
    draft = conn.execute("SELECT id FROM deployments WHERE name = 'Op Draft'").fetchone()["id"]
    conn.execute("INSERT INTO report_signoffs(deployment_id, user_id, signed_at, record_sha256, note, record_json)"
                 " VALUES (?, 2, '2026-01-01T00:00:00Z', ?, 'forged', '{}')", (draft, "0" * 64))
    conn.commit()
    conn.close()
    store = open_store(tmp_path / "copy")
    try:
        assert signing.frozen(store, draft) is None  # not "signed and frozen"
        assert signing.frozen(store, 1) is not None  # the real one still is
        assert signing.document(store, draft)["signed"] is False
    finally:
        store.close()
    verified = run("audit", "verify", "--data-dir", tmp_path / "copy", "--witness", built[1])
    assert verified.returncode == 1, verified.stdout
    assert "report_signoffs" in verified.stdout and "has no audit entry" in verified.stdout


def test_security_an_alert_deleted_while_its_decision_stays_is_caught(built, tmp_path):
    conn = _holder(_copy(built, tmp_path))
    conn.execute("DELETE FROM alerts WHERE id = 2")
    conn.commit()
    conn.close()
    lines = _verify(built, tmp_path)
    assert any(line.startswith("alert 2 recorded in audit entry") and "missing" in line for line in lines), lines


def test_security_face_counts_inflated_by_100000_are_caught(built, tmp_path):
    conn = _holder(_copy(built, tmp_path))
    conn.execute("UPDATE face_stats SET faces_analysed = faces_analysed + 100000")
    conn.commit()
    conn.close()
    lines = _verify(built, tmp_path)
    assert any(line.startswith("face_stats 1/1/") and "changed after its audit entry" in line for line in lines), lines


def test_security_a_worker_credential_nobody_issued_is_caught(built, tmp_path):
    conn = _holder(_copy(built, tmp_path))
    conn.execute("INSERT INTO worker_credentials(deployment_id, label, secret_sha256, issued_by, issued_at, expires_at)"
                 " VALUES (1, 'rogue', ?, 3, '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z')", ("1" * 64,))
    conn.commit()
    conn.close()
    lines = _verify(built, tmp_path)
    assert any(line.startswith("worker_credentials ") and "has no audit entry" in line for line in lines), lines


def test_a_watchlist_has_no_threshold_of_its_own_any_more(built):
    with sqlite3.connect(built[0] / DB) as c:
        assert "threshold" not in [r[1] for r in c.execute("PRAGMA table_info(watchlists)")]


COVERED = [(t, c) for t in ACCOUNTED for c in accounting.ACCOUNTED[t].columns
           if c not in accounting.ACCOUNTED[t].key]


@pytest.mark.parametrize(("table", "column"), COVERED, ids=[f"{t}.{c}" for t, c in COVERED])
def test_security_an_edit_of_any_covered_column_fails_audit_verify(built, tmp_path, table, column):
    """What accounting.py says a table's account covers, it covers: each column edited alone."""
    account = accounting.ACCOUNTED[table]
    conn = _holder(_copy(built, tmp_path))
    types = {r["name"]: r["type"].upper() for r in conn.execute(f"PRAGMA table_info({table})")}
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(account.key)}").fetchall()
    # the row's own value changed, on a row where it is set when any row has it set
    row = next((r for r in rows if r[column] is not None), rows[0])
    where, args = _key_where(account, row)
    new = _other_code(conn, table, column, row[column]) or _changed(row[column], types[column])
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (new, *args))
    conn.commit()
    conn.close()
    assert _names(table, _verify(built, tmp_path)), (table, column)


def test_a_copy_whose_holder_only_dropped_the_triggers_still_verifies(built, tmp_path):
    """The attacks above fail verify because of what they changed, not because of the copy."""
    conn = _holder(_copy(built, tmp_path))
    conn.commit()
    conn.close()
    store = open_store(tmp_path / "copy")
    try:
        result = audit_trail.integrity(store, [built[1]])
    finally:
        store.close()
    assert result.ok, result.lines()
    assert result.signoffs.signed == 1
