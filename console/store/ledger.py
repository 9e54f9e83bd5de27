"""Row digests in the audit log: the tables whose rows are neither replayed state (governed.py) nor
the decision records (audit.verify_records) are accounted for here.

Every write to one of these tables puts, in its audit entry and in the same transaction,
``details["rows"] = {table: {key: digest}}``: the SHA-256 of the row's covered columns as the
transaction now holds it (``digests``). The latest digest logged for a row is what the row must
hold. ``verify`` then names, by table and key, a row the log never recorded (inserted by hand), a
row the log recorded that is gone (deleted by hand) and a row that differs from its latest digest
(edited by hand) - counters included: a face count inflated in the database no longer matches the
digest its last flush logged.

The covered columns of each table are listed in LEDGER; the columns left out, with the reason, in
UNCOVERED (console/store/accounting.py holds every table's account in one place).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ledger:
    key: tuple[str, ...]  # the columns that name a row (joined by "/")
    columns: tuple[str, ...]  # the columns its digest covers (the key's among them)


LEDGER: dict[str, Ledger] = {
    "alert_candidates": Ledger(("alert_id", "rank"), ("alert_id", "rank", "entry_id", "image_id", "score")),
    "alert_events": Ledger(("id",), ("id", "alert_id", "user_id", "event", "at", "details_json")),
    "alert_views": Ledger(("id",), ("id", "alert_id", "captured_at", "jpeg", "sha256", "score", "quality_json")),
    "alert_contexts": Ledger(("alert_id",), ("alert_id", "jpeg", "sha256", "stored_at")),
    "suppressions": Ledger(("id",), ("id", "deployment_id", "camera_id", "track_id", "entry_id", "decision_id",
                                     "created_at")),
    "engagement_demographics": Ledger(("id",), ("id", "engagement_id", "sex", "ethnic_group", "recorded_by",
                                                "recorded_at")),
    "entry_images": Ledger(("id",), ("id", "entry_id", "image_jpeg", "image_sha256", "embedding", "embedding_dim",
                                     "model_id", "quality_json", "created_at", "purged_at")),
    "watchlists": Ledger(("id",), ("id", "deployment_id", "name", "created_at", "purged_at")),
    "face_stats": Ledger(("deployment_id", "camera_id", "day"), ("deployment_id", "camera_id", "day",
                                                                 "faces_analysed", "faces_gated", "score_hist")),
    "purges": Ledger(("id",), ("id", "rule", "ran_at", "items", "details_json")),
    "review_samples": Ledger(("id",), ("id", "sample", "alert_id", "drawn_by", "drawn_at", "original_decision",
                                       "blind_decision", "decided_by", "decided_at")),
    "report_signoffs": Ledger(("id",), ("id", "deployment_id", "user_id", "signed_at", "record_sha256", "note",
                                        "record_json")),
    "worker_credentials": Ledger(("id",), ("id", "deployment_id", "label", "secret_sha256", "issued_by", "issued_at",
                                           "expires_at", "revoked_at", "revoked_by")),
    "deployment_checks": Ledger(("deployment_id", "item"), ("deployment_id", "item", "ticked_by", "ticked_at",
                                                            "note")),
    "camera_credentials": Ledger(("camera_id",), ("camera_id",)),
    "handheld_pairings": Ledger(("id",), ("id", "officer_id", "deployment_id", "code_sha256", "created_by", "created_at",
                                          "expires_at", "used_at", "failures")),
    "handheld_devices": Ledger(("id",), ("id", "pairing_id", "officer_id", "deployment_id", "token_sha256", "label",
                                         "paired_at", "expires_at", "revoked_at", "revoked_by", "revoke_reason")),
    "dispatches": Ledger(("id",), ("id", "alert_id", "deployment_id", "decision_id", "sent_by", "officer_id", "sent_at")),
    "dispatch_events": Ledger(("id",), ("id", "dispatch_id", "device_id", "stage", "at")),
    "proficiency_sets": Ledger(("id",), ("id", "name", "model_id", "source_sha256", "loaded_by", "loaded_at")),
    "proficiency_items": Ledger(("id",), ("id", "set_id", "mated", "hard", "probe_person", "photo_person", "probe_jpeg",
                                          "context_jpeg", "bbox_json", "quality_json", "photo_jpeg", "photo_embedding",
                                          "embedding_dim", "score")),
    "known_answer_watchlists": Ledger(("watchlist_id",), ("watchlist_id", "deployment_id", "made_at")),
    "known_answer_alerts": Ledger(("alert_id",), ("alert_id", "item_id", "mated", "made_at")),
    "alert_keys": Ledger(("alert_id",), ("alert_id", "idem_key")),
}

# Columns of a ledger table its digest leaves out, and why.
UNCOVERED: dict[str, dict[str, str]] = {
    "camera_credentials": {
        "userinfo": "a camera's password: never digested into the log, which anyone who may view the audit reads"
                    " (a short password's SHA-256 is guessed in seconds); a changed one only makes the camera fail"
                    " to connect, which every seat shows"},
}


def _value(v: Any) -> Any:
    if isinstance(v, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(v)).hexdigest()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 2 and 2.0 alike (a REAL column given an integer)
    return v


def row_key(table: str, row) -> str:
    return "/".join(str(row[k]) for k in LEDGER[table].key)


def row_digest(table: str, row) -> str:
    body = [[c, _value(row[c])] for c in LEDGER[table].columns]
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _select(table: str) -> str:
    return f"SELECT {', '.join(LEDGER[table].columns)} FROM {table}"


def digests(conn, table: str, where: str, args: tuple | list = ()) -> dict[str, dict[str, str]]:
    """``{table: {key: digest}}`` of the rows ``where`` picks, as this transaction now holds them: what
    the audit entry of the write that made or changed them carries under ``details["rows"]``."""
    rows = conn.execute(f"{_select(table)} WHERE {where}", tuple(args)).fetchall()
    return {table: {row_key(table, r): row_digest(table, r) for r in rows}}


def of(conn, table: str, **equal: Any) -> dict[str, dict[str, str]]:
    """``digests`` of the rows whose columns equal the values given (a list: any of them), so that a
    service names its rows without writing SQL: ``of(conn, "watchlists", id=[3, 4])``."""
    where, args = [], []
    for column, value in equal.items():
        if column not in LEDGER[table].columns:
            raise ValueError(f"{column} is not a column of {table} the ledger covers")
        if isinstance(value, list | tuple | set):
            values = list(value) or [None]
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)
        else:
            where.append(f"{column} = ?")
            args.append(value)
    return digests(conn, table, " AND ".join(where) or "1 = 1", args)


def merged(*parts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for part in parts:
        for table, rows in part.items():
            out.setdefault(table, {}).update(rows)
    return out


def logged(store) -> dict[tuple[str, str], tuple[str, int]]:
    """(table, key) -> (the latest digest the log gives the row, that entry's seq)."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for e in store.query("SELECT seq, details_json FROM audit_log WHERE details_json LIKE ? ORDER BY seq",
                         ('%"rows":{%',)):
        rows = json.loads(e["details_json"]).get("rows")
        if not isinstance(rows, dict):
            continue
        for table, found in rows.items():
            if table in LEDGER and isinstance(found, dict):
                for key, digest in found.items():
                    out[(table, str(key))] = (str(digest), int(e["seq"]))
    return out


def verify(store) -> list[str]:
    """Every row of a ledger table the log does not account for, and every logged row that is gone."""
    said = logged(store)
    problems: list[str] = []
    for table, ledger in LEDGER.items():
        order = ", ".join(ledger.key)
        for row in store.query(f"{_select(table)} ORDER BY {order}"):
            key = row_key(table, row)
            entry = said.pop((table, key), None)
            if entry is None:
                problems.append(f"{table} {key} has no audit entry (written outside the console)")
            elif entry[0] != row_digest(table, row):
                problems.append(f"{table} {key} was changed after its audit entry {entry[1]}")
    for (table, key), (_, seq) in sorted(said.items(), key=lambda item: item[1][1]):
        problems.append(f"{table} {key} recorded in audit entry {seq} is missing from the database")
    return problems


def after_upgrade(store, before: int, applied: list[int]) -> None:
    """Store.after_upgrade: a store that had a schema older than the ledger's gets its baseline."""
    from console.store.migrations import LEDGER_FROM

    if before and before < LEDGER_FROM and LEDGER_FROM in applied:
        baseline(store)  # rows already there are held to what they hold now


def baseline(store) -> None:
    """On a store upgraded to the ledger: one entry vouching for the rows already there (from this
    entry on, each is held to it); nothing on a store without such rows."""
    from console.store import audit

    with store.transaction() as conn:
        rows = merged(*(digests(conn, table, "1 = 1") for table in LEDGER))
        rows = {t: r for t, r in rows.items() if r}
        if rows:
            audit.append(store, "console", "audit.ledger_baseline", "store", "",
                         {"why": "rows written before the audit log carried their digests", "rows": rows})
