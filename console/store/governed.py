"""Governed state under the audit log: deployments, settings, accounts, cameras, watchlist entries.

The services obey these rows (a deployment's threshold and two-person rule, the retention
period, a user's role), so a row edited in the database by hand must not pass ``audit verify``.
Every write to one of these rows puts, in its audit entry and in the same transaction,
``details["governed"]``: the values of the governed fields *that write set*, read back from the
row - all of them when the row is created, only the changed ones afterwards. A later change
therefore never copies an earlier hand edit into the log: replaying the entries rebuilds what the
log says each row holds, and ``verify`` names every field where the table says otherwise.

Secrets and personal details never go into the log in clear: a password is recorded as the
SHA-256 of its stored (salted scrypt) hash, a camera's source as its SHA-256 plus its redacted
form, a watchlist subject's name and reason as their SHA-256.

Rows written before this existed: their entries (``deployment.created``, ``setting.changed``,
``user.deactivated``...) are read for the values they did record (``LEGACY``), so the fields
that matter most - threshold, two-person rule, state, role, active, every setting - are checked
from the start; a field no entry ever recorded is not compared until a change records it. A row
with no creation entry at all is itself a finding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from console.redaction import redact, redact_url, redact_value

# kind (the audit entry's subject_type) -> (table, governed fields)
GOVERNED: dict[str, tuple[str, tuple[str, ...]]] = {
    "deployment": ("deployments", (
        "name", "location", "rationale", "starts_at", "ends_at", "threshold", "threshold_floor", "model_id",
        "is_demo", "legal_basis", "dpia_ref", "policy_ref", "two_person_rule", "incident_window_s",
        "operator_may_stop", "state", "authorised_by", "authorised_at", "ended_at", "stopped_at", "stopped_by",
        "stop_reason", "watchlist_sha256")),
    "user": ("users", ("username", "display_name", "role", "active", "is_demo", "deleted_at", "password_sha256")),
    "camera": ("cameras", ("deployment_id", "name", "source", "source_sha256")),
    "entry": ("watchlist_entries", (
        "watchlist_id", "record_number", "subject_name_sha256", "category", "legal_basis", "reason_sha256",
        "image_source", "image_source_sha256", "image_date", "review_date", "under_18", "under_18_justification",
        "added_by", "removed_at")),
    "setting": ("settings", ("value",)),
}


def _sha(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(str(text).encode()).hexdigest()


# Fields that are not columns: field -> (the column it comes from, how)
DERIVED = {
    "password_sha256": ("password_hash", _sha),
    "source": ("source", lambda s: redact_url(s) if s is not None else None),
    "source_sha256": ("source", _sha),
    "subject_name_sha256": ("subject_name", _sha),
    "reason_sha256": ("reason", _sha),
    "image_source": ("image_source", lambda s: redact(s) if s is not None else None),
    "image_source_sha256": ("image_source", _sha),
    "value": ("value_json", lambda v: json.loads(v) if v is not None else None),
}


def _where(kind: str, ident: Any) -> tuple[str, tuple]:
    if kind == "setting":
        scope, key = str(ident).rsplit("/", 1)
        return "scope = ? AND key = ?", (scope, key)
    return "id = ?", (int(ident),)


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def state(conn, kind: str, ident: Any, *fields: str, **columns: Any) -> dict[str, Any]:
    """The governed ``fields`` of one row (every one when none are named) as this transaction now
    holds it, for an audit entry's ``details["governed"]``. ``columns`` gives column values not to
    be read back (a password hash, which a seat may write but never read)."""
    table, governed = GOVERNED[kind]
    fields = fields or governed
    unknown = set(fields) - set(governed)
    if unknown:
        raise ValueError(f"not a governed field of a {kind}: {sorted(unknown)}")
    needed = sorted({DERIVED.get(f, (f,))[0] for f in fields} - set(columns))
    row: dict[str, Any] = dict(columns)
    if needed:
        where, args = _where(kind, ident)
        found = conn.execute(f"SELECT {', '.join(needed)} FROM {table} WHERE {where}", args).fetchone()
        if found is None:
            raise ValueError(f"{kind} {ident} does not exist")
        row.update({c: found[c] for c in needed})
    out = {}
    for f in fields:
        column, how = DERIVED.get(f, (f, None))
        out[f] = _plain(how(row[column]) if how else row[column])
    return out


# -- the log's view -----------------------------------------------------------------------------
def _legacy_created(kind: str, aliases: dict[str, str] | None = None, **implied: Any):
    def read(d: dict) -> dict:
        names = GOVERNED[kind][1]
        got = {(aliases or {}).get(k, k): v for k, v in d.items()}
        return {**implied, **{k: v for k, v in got.items() if k in names}}
    return read


# What entries written before details["governed"] existed say about their row.
LEGACY = {
    "deployment.created": _legacy_created("deployment", {"demo": "is_demo"}),
    "deployment.authorised": lambda d: {"state": "authorised"},
    "deployment.started": lambda d: {"state": d["state"]} if "state" in d else {},
    "deployment.stopped": lambda d: {"state": d["state"]} if "state" in d else {},
    "deployment.restarted": lambda d: {"state": d["state"]} if "state" in d else {},
    "deployment.ended": lambda d: {"state": d["state"]} if "state" in d else {},
    "deployment.stop_policy": lambda d: {"operator_may_stop": d["operators_may_stop"]},
    "deployment.threshold_changed": lambda d: {"threshold": d["new"]},
    "deployment.two_person_rule": lambda d: {"two_person_rule": d["on"]},
    "deployment.incident_window": lambda d: {"incident_window_s": d["new"]},
    "setting.changed": lambda d: {"value": d["new"]},
    "user.created": _legacy_created("user", active=1, deleted_at=None),
    "user.activated": lambda d: {"active": 1},
    "user.deactivated": lambda d: {"active": 0},
    "user.deleted": lambda d: {"active": 0},
    "camera.added": _legacy_created("camera"),
    "watchlist.entry_added": _legacy_created("entry"),
}
CREATIONS = {"deployment.created", "user.created", "camera.added", "watchlist.entry_added", "setting.changed"}
CREATED = "_created"  # the seq of the entry that recorded the row's creation


def replay(store) -> dict[tuple[str, str], dict[str, tuple[Any, int]]]:
    """What the log says each governed row holds: (kind, id) -> {field: (value, entry seq)}, and
    under CREATED the entry that recorded its creation, where one did."""
    kinds = ",".join(f"'{k}'" for k in GOVERNED)
    logged: dict[tuple[str, str], dict[str, tuple[Any, int]]] = {}
    for e in store.conn.execute("SELECT seq, action, subject_type, subject_id, details_json FROM audit_log"
                                f" WHERE subject_type IN ({kinds}) ORDER BY seq"):
        text = e["details_json"]
        if '"governed"' not in text and e["action"] not in LEGACY:
            continue
        details = json.loads(text)
        if isinstance(details.get("governed"), dict):
            values = details["governed"]
        elif e["action"] in LEGACY:
            try:
                values = LEGACY[e["action"]](details)
            except (KeyError, TypeError, AttributeError):  # an entry edited by hand: the chain says so
                continue
        else:
            continue
        row = logged.setdefault((e["subject_type"], str(e["subject_id"])), {})
        if e["action"] in CREATIONS and CREATED not in row:
            row[CREATED] = (None, int(e["seq"]))
        row.update({f: (v, int(e["seq"])) for f, v in values.items()})
    return logged


# -- held against the tables --------------------------------------------------------------------
# Fields whose values verify may print (it is open to anyone): numbers, flags and fixed codes; the
# others (names, free text, digests) are only said to differ.
SHOWN = {"threshold", "threshold_floor", "two_person_rule", "incident_window_s", "operator_may_stop", "state",
         "is_demo", "role", "active", "under_18", "category", "value", "deployment_id", "watchlist_id",
         "authorised_by", "stopped_by", "added_by"}


def _same(a: Any, b: Any) -> bool:
    a, b = redact_value(_plain(a)), redact_value(_plain(b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= 1e-9
    return a == b


def _show(value: Any) -> str:
    return json.dumps(redact_value(value), sort_keys=True)


def _password_readable(store) -> bool:
    """On PostgreSQL a seat may not read password hashes: their digests are then checked by the owner."""
    if store.dialect != "postgres":
        return True
    return bool(store.one("SELECT has_column_privilege('users', 'password_hash', 'SELECT') AS ok")["ok"])


def _rows(store, kind: str, fields: tuple[str, ...]):
    """(id, {field: value}) for every row of the kind's table, as the log would record it."""
    table = GOVERNED[kind][0]
    columns = sorted({DERIVED.get(f, (f,))[0] for f in fields})
    key = "scope, key" if kind == "setting" else "id"
    for row in store.query(f"SELECT {key}, {', '.join(columns)} FROM {table} ORDER BY {key}"):
        ident = f"{row['scope']}/{row['key']}" if kind == "setting" else str(row["id"])
        yield ident, {f: _plain(DERIVED[f][1](row[DERIVED[f][0]]) if f in DERIVED else row[f]) for f in fields}


def verify(store) -> list[str]:
    """Every difference between the governed tables and what the audit log says they hold."""
    logged = replay(store)
    problems: list[str] = []
    readable = _password_readable(store)
    for kind, (_, fields) in GOVERNED.items():
        if kind == "user" and not readable:
            fields = tuple(f for f in fields if f != "password_sha256")
        for ident, now in _rows(store, kind, fields):
            said = logged.pop((kind, ident), {})
            if CREATED not in said:
                problems.append(f"{kind} {ident} has no audit entry recording its creation (written outside the"
                                " console)")
            told = set()  # one line for each column, though a digest and a redacted form both differ
            for f in fields:
                column = DERIVED.get(f, (f,))[0]
                if f not in said or column in told or _same(now[f], said[f][0]):
                    continue
                told.add(column)
                value, seq = said[f]
                if f in SHOWN:
                    problems.append(f"{kind} {ident}: {f} is {_show(now[f])} in the table, the log says "
                                    f"{_show(value)} (audit entry {seq})")
                else:
                    problems.append(f"{kind} {ident}: {column} in the table differs from the log (audit entry {seq})")
    for (kind, ident), said in logged.items():
        first = min(seq for _, seq in said.values())
        problems.append(f"{kind} {ident} recorded in audit entry {first} is missing from the table")
    return problems
