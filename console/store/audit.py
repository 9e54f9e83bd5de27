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

from console.store.db import Store, utcnow

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(seq: int, at: str, actor: str, action: str, subject_type: str, subject_id: str,
               details_json: str, prev_hash: str) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details": json.loads(details_json),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def append(store: Store, actor: str, action: str, subject_type: str = "", subject_id: Any = "",
           details: dict | None = None) -> int:
    """Append one entry inside the caller's transaction (or its own). Returns its seq."""
    details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with store.transaction() as conn:
        last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        prev_hash = last["hash"] if last else GENESIS
        seq_row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        seq = (seq_row["seq"] if seq_row else 0) + 1
        at = utcnow()
        digest = entry_hash(seq, at, actor, action, subject_type, str(subject_id), details_json, prev_hash)
        conn.execute(
            "INSERT INTO audit_log(seq, at, actor, action, subject_type, subject_id, details_json, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, actor, action, subject_type, str(subject_id), details_json, prev_hash, digest),
        )
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


def verify_chain(store: Store) -> ChainReport:
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    for row in store.conn.execute("SELECT * FROM audit_log ORDER BY seq"):
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
        expected_prev = row["hash"]
        expected_seq += 1
        count += 1
    top = store.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    if top and top["seq"] >= expected_seq:
        return ChainReport(False, count, expected_seq, f"entries {expected_seq}..{top['seq']} were removed from the end")
    return ChainReport(True, count)
