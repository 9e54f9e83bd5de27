"""The append-only, hash-chained audit log.

Each entry stores the previous entry's hash and the SHA-256 of its own canonical
content (sorted-key JSON of every field but the hash). Changing, removing or reordering
any entry breaks the chain from that entry on; ``verify_chain`` names the first broken
one. The database also refuses UPDATE and DELETE on the table (triggers), so tampering
needs deliberate work outside the console, and it shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from console.clock import utcnow
from console.redaction import redact_value
from console.store.base import Store

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: str, actor_name: str, action: str, subject_type: str, subject_id: str,
               details_json: str, prev_hash: str) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor_name,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details": json.loads(details_json),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def append(store: Store, actor_name: str, action: str, subject_type: str = "", subject_id: Any = "",
           details: dict | None = None) -> int:
    """Append one entry inside the caller's transaction (or its own). Returns its seq.

    The details are redacted first (console/redaction.py): a log that may never be changed must
    never take in a credential, whichever caller passes one (a camera's source URL, say)."""
    details_json = json.dumps(redact_value(details or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with store.transaction() as conn:
        seq = store.next_audit_seq(conn)  # also serialises appenders on PostgreSQL
        last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        prev_hash = last["hash"] if last else GENESIS
        at = utcnow()
        digest = entry_hash(seq, at, actor_name, action, subject_type, str(subject_id), details_json, prev_hash)
        conn.execute(
            "INSERT INTO audit_log(seq, at, actor, action, subject_type, subject_id, details_json, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, actor_name, action, subject_type, str(subject_id), details_json, prev_hash, digest),
        )
        store.notify(conn, "orc_changes", str(seq))  # delivered at commit, to every listening console
        if store.after_audit_append is not None:  # signed checkpoints as the log grows (store/checkpoints.py)
            store.after_commit("audit.appended", lambda: store.after_audit_append(store))
    return seq


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken: int | None = None
    problem: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries verified"
        return f"audit chain BROKEN at entry {self.first_broken}: {self.problem}"


def verify_chain(store: Store, tree=None) -> ChainReport:
    """The chain from the first entry, stopping at the first break. ``tree`` (a merkle.PrefixTree),
    when given, takes every entry's stored hash on the same walk - the ones after a break too - so
    the signed roots can be held against the log without reading it again."""
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    broken: ChainReport | None = None
    for row in store.conn.execute("SELECT * FROM audit_log ORDER BY seq"):
        if tree is not None:
            tree.add(row["hash"].encode("ascii"))
        if broken is None:
            broken = _broken(row, expected_seq, expected_prev, count)
            if broken is not None and tree is None:
                return broken
        if broken is None:
            expected_prev = row["hash"]
            expected_seq += 1
            count += 1
    if broken is not None:
        return broken
    top = store.audit_high_water()
    if top >= expected_seq:
        return ChainReport(False, count, expected_seq, f"entries {expected_seq}..{top} were removed from the end")
    return ChainReport(True, count)


def _broken(row, expected_seq: int, expected_prev: str, count: int) -> ChainReport | None:
    """Why this entry breaks the chain, or None when it follows the one before it."""
    seq = row["seq"]
    if seq != expected_seq:
        return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing (next is {seq})")
    if row["prev_hash"] != expected_prev:
        return ChainReport(False, count, seq, "its prev_hash does not match the entry before it")
    try:
        digest = entry_hash(seq, row["at"], row["actor"], row["action"], row["subject_type"],
                            row["subject_id"], row["details_json"], row["prev_hash"])
    except ValueError:
        return ChainReport(False, count, seq, "its details are not valid JSON")
    if digest != row["hash"]:
        return ChainReport(False, count, seq, "its content does not match its hash (altered)")
    return None


# -- records against the chain ------------------------------------------------------------
# The chain proves the log was not changed. These fields tie the decision and engagement
# rows to their log entries, so a row changed in place (triggers dropped, file edited) no
# longer matches the digest its entry recorded at the time.
DECISION_FIELDS = ("id", "alert_id", "user_id", "decision", "reason", "reason_code", "decided_at", "model_id",
                   "threshold", "score", "probe_sha256", "candidate_sha256", "supersedes", "duration_ms",
                   "candidate_entry_id", "candidate_score")
# Fields added after rows were first digested: left out of the digest while empty, so a row recorded
# before them still matches its entry; once set they are covered (emptying one breaks the match).
LATER_FIELDS = ("candidate_entry_id", "candidate_score", "recorded_via")
ENGAGEMENT_FIELDS = ("id", "alert_id", "recorded_by", "result", "action", "notes", "recorded_at", "supersedes",
                     "recorded_via")


# What an alert.raised entry records besides the images and the score, held against the row where it does.
ALERT_FIELDS = ("deployment_id", "camera_id", "entry_id", "threshold", "model_id", "watchlist_sha256")


def _same_value(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= 1e-9
    return a == b


def row_digest(row, fields: tuple[str, ...]) -> str:
    body = {f: row[f] for f in fields if f not in LATER_FIELDS or row[f] is not None}
    return hashlib.sha256(canonical(body)).hexdigest()


def verify_records(store: Store) -> list[str]:
    """Problems found when the decision, engagement and alert rows are held against the log."""
    problems: list[str] = []
    logged: dict[tuple[str, int], dict] = {}
    for entry in store.conn.execute("SELECT seq, action, details_json FROM audit_log WHERE action IN"
                                    " ('decision.recorded', 'decision.corrected', 'engagement.recorded',"
                                    " 'alert.raised') ORDER BY seq"):
        details = json.loads(entry["details_json"])
        if entry["action"].startswith("decision"):
            key = ("decision", int(details.get("decision_id", -1)))
        elif entry["action"] == "engagement.recorded":
            key = ("engagement", int(details.get("engagement_id", -1)))
        else:
            key = ("alert", int(details.get("alert_id", -1)))
        logged[key] = {**details, "_seq": entry["seq"]}
    for kind, table, fields in (("decision", "decisions", DECISION_FIELDS),
                                ("engagement", "engagements", ENGAGEMENT_FIELDS)):
        seen = set()
        for row in store.conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            seen.add(int(row["id"]))
            entry = logged.get((kind, int(row["id"])))
            if entry is None:
                problems.append(f"{kind} {row['id']} has no audit entry")
            elif entry.get("row_sha256") != row_digest(row, fields):
                problems.append(f"{kind} {row['id']} was changed after it was recorded (audit entry {entry['_seq']})")
        for (k, ident), entry in logged.items():
            if k == kind and ident not in seen:
                problems.append(f"{kind} {ident} recorded in audit entry {entry['_seq']} is missing from the database")
    alerts_seen: set[int] = set()
    for row in store.conn.execute("SELECT id, probe_jpeg, probe_sha256, context_jpeg, context_sha256, score, purged_at,"
                                  f" {', '.join(ALERT_FIELDS)} FROM alerts ORDER BY id"):
        alerts_seen.add(int(row["id"]))
        entry = logged.get(("alert", int(row["id"])))
        if entry is None:
            problems.append(f"alert {row['id']} has no audit entry")
            continue
        if entry.get("probe_sha256") != row["probe_sha256"] or entry.get("context_sha256") != row["context_sha256"]:
            problems.append(f"alert {row['id']}: image hashes differ from audit entry {entry['_seq']}")
        elif row["purged_at"] is not None and (row["probe_jpeg"] is not None or row["context_jpeg"] is not None):
            problems.append(f"alert {row['id']}: holds images after they were purged (put back by hand)")
        elif row["purged_at"] is None and (
                hashlib.sha256(row["probe_jpeg"] or b"").hexdigest() != row["probe_sha256"]
                or hashlib.sha256(row["context_jpeg"] or b"").hexdigest() != row["context_sha256"]):
            problems.append(f"alert {row['id']}: stored images were replaced after the alert was raised")
        elif abs(float(entry.get("score", -9)) - round(float(row["score"]), 4)) > 1e-4:
            problems.append(f"alert {row['id']}: score differs from audit entry {entry['_seq']}")
        else:
            moved = [f for f in ALERT_FIELDS if f in entry and not _same_value(entry[f], row[f])]
            if moved:
                problems.append(f"alert {row['id']}: {', '.join(moved)} differ from audit entry {entry['_seq']}")
    for (k, ident), entry in logged.items():
        if k == "alert" and ident not in alerts_seen:
            problems.append(f"alert {ident} recorded in audit entry {entry['_seq']} is missing from the database")
    return problems
