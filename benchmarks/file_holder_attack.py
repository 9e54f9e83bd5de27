"""The file holder's attack on every table (issue 27): caught or missed, per table and per attack.

    python -m benchmarks.file_holder_attack [--keep DIR]

A selftest store with a witness checkpoint is built (``main.py selftest --witness``), then filled
through the services so that every table holds a row, and checkpointed again. For every table
console/store/accounting.py accounts for, a copy of the file is taken, its triggers dropped (what
someone holding the file does first), one row inserted, deleted or edited with a bare sqlite3
connection, and ``audit verify`` run on the copy against the witness. A table is "caught" when
verify fails naming it. Tables in neither of accounting.py's lists are printed as NEW. The tests
(tests/integration/test_every_table_accounted.py) use the same machinery.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

DB = "console.sqlite3"
PASSWORD = "a long enough passphrase for the supervisor"
ATTACKS = ("insert", "delete", "edit")
ROOT = Path(__file__).resolve().parents[1]


# -- the store ------------------------------------------------------------------------------------
def fill(store) -> None:
    """Through the services only: a row in every table the selftest leaves empty."""
    from console import clock
    from console.services.accounts import auth, worker_access
    from console.services.engage import dispatch, pairing
    from console.services.record import reports, retention, signing, stats
    from console.services.setup import cameras, deployment_setup, deployments
    from console.store import repo

    admin = auth.actor_for(store, "demo.admin")
    auth.reset_password(store, admin, "demo.supervisor", PASSWORD)
    sup = auth.actor_for(store, "demo.supervisor")
    dep = 1
    worker_access.issue(store, admin, dep, "gate worker")
    auth.create_user(store, admin, "pc.field", "PC Field", "engagement_officer", PASSWORD)
    _, phone = pairing.pair(store, pairing.start_pairing(store, sup, "pc.field", dep).code, "phone")
    confirmed = store.one("SELECT alert_id FROM decisions WHERE decision = 'true_alert' ORDER BY id LIMIT 1")["alert_id"]
    auth.create_user(store, admin, "pc.second", "PC Second", "engagement_officer", PASSWORD)
    _, second = pairing.pair(store, pairing.start_pairing(store, sup, "pc.second", dep).code, "phone")
    sent = dispatch.send(store, sup, confirmed)
    dispatch.inbox(store, second)  # delivered to the team's second phone, never opened there
    dispatch.card(store, phone, sent.dispatch_id)
    dispatch.record_outcome(store, phone, sent.dispatch_id, True, True, "words_of_advice")
    alert = store.one("SELECT id, probe_jpeg FROM alerts ORDER BY id LIMIT 1")
    decision = store.one("SELECT id FROM decisions WHERE alert_id = ?", (alert["id"],))["id"]
    repo.add_alert_view(store, alert["id"], bytes(alert["probe_jpeg"]), 0.7, {"score": 0.9}, clock.utcnow())
    _frame_after(store, alert)
    repo.add_suppression(store, alert["id"], decision, sup.username)
    engagement = repo.record_engagement(store, alert["id"], sup.user_id, "confirmed_true", "arrest", "", sup.username)
    stats.record_demographics(store, sup, engagement, "female", "not_stated")
    _known_answer_test(store, sup, dep)
    reports.draw_sample(store, sup, dep, 1, seed=1)
    now = clock.now()

    def iso(t):
        return t.isoformat(timespec="seconds").replace("+00:00", "Z")

    spec = repo.DeploymentSpec("Op Draft", "Quay", "a second site", iso(now), iso(now + timedelta(hours=4)), 0.6,
                               0.0, repo.get_deployment(store, dep)["model_id"], legal_basis="common law")
    draft = deployments.create(store, sup, spec)
    deployment_setup.tick(store, sup, draft, next(iter(deployment_setup.CHECKLIST)))
    cameras.add(store, sup, draft, "Quay cam", "rtsp://10.0.0.9/live", "viewer", "s3cret")
    deployments.end(store, sup, dep, "shift over")
    retention.run_purges(store, now + timedelta(days=400))
    signing.sign_off(store, sup, dep, "checked", PASSWORD)


def _frame_after(store, alert) -> None:
    """An alert stored as recognition stores one, at once, and its context frame after it."""
    import json

    from console.store import repo

    row = store.one("SELECT deployment_id, camera_id, track_id, threshold, model_id, bbox_json, captured_at FROM alerts"
                    " WHERE id = ?", (alert["id"],))
    best = store.one("SELECT entry_id, image_id, score FROM alert_candidates WHERE alert_id = ? AND rank = 1",
                     (alert["id"],))
    unframed = repo.insert_alert(store, repo.AlertRecord(
        row["deployment_id"], row["camera_id"], row["track_id"] + 1000, [(best["entry_id"], best["image_id"], best["score"])],
        row["threshold"], row["model_id"], json.loads(row["bbox_json"]), {}, bytes(alert["probe_jpeg"]), b"",
        row["captured_at"]))
    repo.add_alert_context(store, unframed, bytes(alert["probe_jpeg"]))


def _known_answer_test(store, sup, dep: int) -> None:
    """A proficiency set of one pair (as console/services/accuracy/proficiency.py stores one), tests
    enabled, one test alert made and decided."""
    import json
    import random

    import numpy as np

    from console.services.accounts import auth
    from console.services.accuracy import known_answer
    from console.services.decisions import adjudication
    from console.store import audit, ledger, repo
    from console.store import known_answer as ka_db

    alert = store.one("SELECT probe_jpeg, context_jpeg FROM alerts ORDER BY id LIMIT 1")
    model_id = repo.get_deployment(store, dep)["model_id"]
    with store.transaction() as conn:
        set_id = ka_db.insert_set(conn, "attack set", model_id, "0" * 64, sup.user_id, "2026-01-01T00:00:00Z")
        item = ka_db.insert_item(conn, set_id, False, True, "p1", "p2", bytes(alert["probe_jpeg"]),
                                 bytes(alert["context_jpeg"]), json.dumps([1, 1, 9, 9]), "{}", bytes(alert["probe_jpeg"]),
                                 np.ones(512, np.float32).tobytes(), 512, 0.4)
        audit.append(store, sup.username, "known_answer.set_loaded", "store", "",
                     {"rows": ledger.merged(ledger.of(conn, "proficiency_sets", id=set_id),
                                            ledger.of(conn, "proficiency_items", id=item))})
    known_answer.configure(store, sup, dep, True, every=20, reason="measure the operators")
    test = known_answer.inject(store, dep, random.Random(1))
    op = auth.actor_for(store, "demo.operator")
    adjudication.open_alert(store, op, test)
    adjudication.reject(store, op, test, "different_person")


def build(root: Path) -> tuple[Path, Path]:
    """The selftest store under ``root``, filled, with a witness checkpoint of all of it: (data, witness)."""
    from console.services.record import audit_trail
    from console.store import open_store

    data, witness = root / "data", root / "witness"
    made = subprocess.run([sys.executable, str(ROOT / "main.py"), "selftest", "--data-dir", str(data), "--witness",
                           str(witness)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if made.returncode != 0:
        raise RuntimeError(f"selftest failed: {made.stdout}{made.stderr}")
    store = open_store(data)
    try:
        fill(store)
        audit_trail.make_checkpoint(store, [witness], "all tables filled")
        clean = audit_trail.integrity(store, [witness])
        if not clean.ok:
            raise RuntimeError("the filled store does not verify: " + "; ".join(clean.lines()))
    finally:
        store.close()
    return data, witness


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as c:
        return [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def copy(data: Path, target: Path) -> sqlite3.Connection:
    """A copy of the store in ``target`` (made), opened as the file's holder opens it: triggers dropped."""
    target.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(data / DB), sqlite3.connect(target / DB)
    src.backup(dst)
    src.close()
    dst.row_factory = sqlite3.Row
    for (name,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        dst.execute(f"DROP TRIGGER {name}")
    return dst


def verify(target: Path, witness: Path):
    """``audit verify`` of the copy in ``target`` against the witness folder (in process)."""
    from console.services.record import audit_trail
    from console.store import open_store

    store = open_store(target)
    try:
        return audit_trail.integrity(store, [witness])
    finally:
        store.close()


# -- the attacks ------------------------------------------------------------------------------------
def changed(value, column_type: str):
    """A different value of the same kind (valid JSON stays valid JSON)."""
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


def other_codes(conn, table: str, column: str, value) -> list:
    """The other codes a CHECK (column IN (...)) allows, where the column has such a list."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    found = re.search(rf"\b{column}\b[^,]*CHECK \({column} IN \(([^)]*)\)\)", sql)
    listed = found.group(1) if found else ""
    codes: list = re.findall(r"'(\w+)'", listed) or [int(n) for n in re.findall(r"-?\d+", listed)]  # text or numbers
    return [c for c in codes if c != value]


def _types(conn, table: str) -> dict[str, str]:
    return {r["name"]: r["type"].upper() for r in conn.execute(f"PRAGMA table_info({table})")}


def _key_where(account, row) -> tuple[str, tuple]:
    return " AND ".join(f"{k} = ?" for k in account.key), tuple(row[k] for k in account.key)


def one_row(conn, table: str, column: str | None = None):
    """A row of the table (one where ``column`` is set, when any is)."""
    from console.store import accounting

    rows = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(accounting.ACCOUNTED[table].key)}").fetchall()
    if not rows:
        raise LookupError(f"the store left {table} empty: fill it through the services (benchmarks/file_holder_attack.py)")
    return next((r for r in rows if column is None or r[column] is not None), rows[0])


def insert(conn, table: str) -> None:
    """A new row like an existing one: its key moved past the others, its unique columns changed."""
    from console.store import accounting

    account = accounting.ACCOUNTED[table]
    row, types = dict(one_row(conn, table)), _types(conn, table)
    last = account.key[-1]
    if "INT" in types[last]:
        row[last] = conn.execute(f"SELECT MAX({last}) FROM {table}").fetchone()[0] + 1000
    else:
        row[last] = f"{row[last]} (forged)"
    composite: list[list[str]] = []
    for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
        if index["unique"] and index["origin"] != "pk":
            cols = [c["name"] for c in conn.execute(f"PRAGMA index_info({index['name']})").fetchall()
                    if c["name"] not in account.key]
            if len(cols) == 1:
                row[cols[0]] = changed(row[cols[0]], types[cols[0]])
            elif cols:
                composite.append(cols)
    if table == "audit_log":
        row["action"] = "forged.entry"
    # A unique index over several columns is escaped by changing one of them: the first whose new value
    # the table's other constraints (a CHECK list, a foreign key) still accept.
    tries = [dict(row)] if not composite else [{**row, col: changed(row[col], types[col])} for col in composite[0]]
    sql = f"INSERT INTO {table}({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
    for n, attempt in enumerate(tries):
        try:
            conn.execute(sql, tuple(attempt.values()))
            return
        except Exception:
            if n == len(tries) - 1:
                raise


def delete(conn, table: str) -> None:
    from console.store import accounting

    where, args = _key_where(accounting.ACCOUNTED[table], one_row(conn, table))
    conn.execute(f"DELETE FROM {table} WHERE {where}", args)


def edit(conn, table: str, column: str | None = None) -> None:
    """One column of one row changed (by default the first covered column that is not the key; a table
    covered by its key alone has its row moved)."""
    from console.store import accounting

    account = accounting.ACCOUNTED[table]
    column = column or next((c for c in account.columns if c not in account.key), account.key[-1])
    row = one_row(conn, table, column)
    where, args = _key_where(account, row)
    tries = other_codes(conn, table, column, row[column]) or [changed(row[column], _types(conn, table)[column])]
    for n, new in enumerate(tries):  # a code another row already holds under a unique index: the next one
        try:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (new, *args))
            return
        except Exception:
            if n == len(tries) - 1:
                raise


NAMED = {"deployments": "deployment", "users": "user", "cameras": "camera", "watchlist_entries": "entry",
         "settings": "setting", "decisions": "decision", "engagements": "engagement", "alerts": "alert"}


def names(table: str, lines: list[str]) -> bool:
    """Whether verify's lines name the table (the log itself: its chain is broken)."""
    if table == "audit_log":
        return any(line.startswith("audit chain BROKEN") for line in lines)
    name = NAMED.get(table, table)
    return any(line.startswith(f"{name} ") for line in lines)


def attack(data: Path, witness: Path, target: Path, table: str, how: str, column: str | None = None) -> tuple[bool, list[str]]:
    """(caught, verify's lines) for one attack on a fresh copy in ``target``."""
    conn = copy(data, target)
    {"insert": lambda: insert(conn, table), "delete": lambda: delete(conn, table),
     "edit": lambda: edit(conn, table, column)}[how]()
    conn.commit()
    conn.close()
    result = verify(target, witness)
    lines = result.lines()
    return (not result.ok and names(table, lines)), lines


def main(argv: list[str] | None = None) -> int:
    from console.store import accounting

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it (default: a temporary one)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        data, witness = build(root)
        missed = 0
        for table in tables(data / DB):
            if table in accounting.NOT_EVIDENCE:
                print(f"{table:<24} not evidence: {accounting.NOT_EVIDENCE[table]}")
                continue
            if table not in accounting.ACCOUNTED:
                print(f"{table:<24} NEW: not accounted for")
                missed += 1
                continue
            results = []
            for how in ATTACKS:
                caught, _ = attack(data, witness, root / "attacks" / f"{table}-{how}", table, how)
                missed += not caught
                results.append(f"{how} {'caught' if caught else 'MISSED'}")
            print(f"{table:<24} {accounting.ACCOUNTED[table].how:<9} " + ", ".join(results))
    print("every attack caught" if not missed else f"{missed} attack(s) MISSED")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
