"""How ``audit verify`` accounts for every table of the store: the one list of them.

A table holding evidence or governed state is in ACCOUNTED, with how a row inserted, deleted or
edited outside the console is caught and which columns that covers. A table that is neither is in
NOT_EVIDENCE, with the reason. A table in neither list is a table nobody has thought about: the
tests (tests/unit/test_every_table_accounted.py) fail on it until it is placed here.

Three ways a row is accounted for:
- ``chain``: the audit log itself (hash chain, signed checkpoints: audit.py, witness.py);
- ``replayed``: governed state, replayed from the values each entry recorded (governed.py);
- ``record``: the decision records and alerts, a digest or the hashes in the entry that made them
  (audit.verify_records);
- ``ledger``: a digest of the row in the entry of every write that made or changed it (ledger.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from console.store import audit, governed, ledger


@dataclass(frozen=True)
class Account:
    how: str  # chain | replayed | record | ledger
    key: tuple[str, ...]
    columns: tuple[str, ...]  # what a hand edit of is caught
    uncovered: dict[str, str]  # column -> why an edit of it is not evidence


def _governed(kind: str, uncovered: dict[str, str]) -> Account:
    table, fields = governed.GOVERNED[kind]
    key = ("scope", "key") if kind == "setting" else ("id",)
    columns = tuple(dict.fromkeys([*key, *(governed.DERIVED.get(f, (f,))[0] for f in fields)]))
    return Account("replayed", key, columns, uncovered)


_CREATED = "when the row was made: the time of the audit entry that recorded it is the record"
_ALERT_STATE = "queue bookkeeping the console rewrites as the alert is handled (its decisions are the record)"

ACCOUNTED: dict[str, Account] = {
    "audit_log": Account("chain", ("seq",), ("seq", "at", "actor", "action", "subject_type", "subject_id",
                                            "details_json", "prev_hash", "hash"), {}),
    "deployments": _governed("deployment", {"created_at": _CREATED}),
    "users": _governed("user", {
        "created_at": _CREATED,
        "failed_logins": "sign-in bookkeeping (each failure and lockout is its own audit entry)",
        "locked_until": "sign-in bookkeeping (each failure and lockout is its own audit entry)"}),
    "cameras": _governed("camera", {"created_at": _CREATED}),
    "watchlist_entries": _governed("entry", {"added_at": _CREATED}),
    "settings": _governed("setting", {
        "updated_at": "when the value was set: the setting.changed entry's time is the record",
        "updated_by": "who set it: the setting.changed entry's actor is the record"}),
    "decisions": Account("record", ("id",), audit.DECISION_FIELDS, {}),
    "engagements": Account("record", ("id",), audit.ENGAGEMENT_FIELDS, {}),
    "alerts": Account("record", ("id",), ("id", "probe_jpeg", "probe_sha256", "context_jpeg", "context_sha256",
                                          "score", *audit.ALERT_FIELDS), {
        **{c: _ALERT_STATE for c in ("status", "priority", "escalated_at", "claimed_by", "claim_expires",
                                     "first_confirmed_by", "first_confirmed_entry", "incident_id")},
        "track_id": "the tracker's own number for the face on that camera (not in the alert.raised entry)",
        **{c: "what the pipeline measured; the images and score it raised on are held against the log"
           for c in ("bbox_json", "quality_json", "captured_at", "stored_at")},
        "purged_at": "set by retention, whose purge entry names the alerts"}),
    **{table: Account("ledger", lg.key, lg.columns, ledger.UNCOVERED.get(table, {}))
       for table, lg in ledger.LEDGER.items()},
}

NOT_EVIDENCE: dict[str, str] = {
    "schema_migrations": "the schema version and when each step ran: the schema itself, not a record (a wrong"
                         " version makes the console refuse or re-run a step, which shows at once)",
    "sqlite_sequence": "SQLite's own counters of the highest id given out",
    "worker_heartbeats": "a cache of which worker is running now, rewritten every few seconds; starts, stops and"
                         " refusals of workers are audit entries",
    "camera_leases": "which pool worker holds each camera now, renewed every few seconds; every take and release"
                     " is an audit entry (camera.lease_taken, camera.lease_released)",
    "worker_pool": "which workers are in a deployment's pool and when each was last seen, rewritten every few"
                   " seconds; a worker's start and stop are audit entries",
    "audit_high_water": "PostgreSQL: the next audit number, checked by the chain itself (a gap is a broken chain)",
    "orc_sessions": "PostgreSQL: the sign-in sessions the database vouches for (each sign-in and sign-out is an"
                    " audit entry)",
    "orc_recognition": "PostgreSQL: the tokens recognition writes alerts under, one per running seat or worker;"
                       " each start of recognition is an audit entry (deployment.started or deployment.joined)",
}


def unaccounted(tables: list[str]) -> list[str]:
    """The tables in ``tables`` that neither list places: each a line saying what to do."""
    return [f"new table {t}: say how audit verify accounts for it (console/store/accounting.py)"
            for t in tables if t not in ACCOUNTED and t not in NOT_EVIDENCE]
