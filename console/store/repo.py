"""Repository functions: creating each record type, and shared reads (the services' other SQL: the
store's modules by domain). AlertRecord, from console/domain.py, is handed on for tests and tools.

Each write that changes what the record says goes with an audit entry in the same
transaction, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from console.clock import utcnow
from console.domain import AlertRecord, DeploymentState  # noqa: F401 - AlertRecord handed on
from console.errors import ConsoleError, StoreError
from console.redaction import redact, redact_url
from console.store import audit, governed, ledger
from console.store.alerts import (  # noqa: F401 - handed on: callers look here
    DEFAULT_INCIDENT_WINDOW_S,
    add_alert_context,
    add_alert_event,
    add_alert_view,
    add_suppression,
    alert_candidates,
    close_incident,
    context_of,
    dumps,
    incident_of,
    insert_alert,
    lock_incident,
    pending_alerts,
    pending_incidents,
    set_incident_state,
    sha256,
    sightings,
)
from console.store.base import Store
from console.store.face_stats import HIST_BINS, add_face_stats  # noqa: F401 - handed on: callers look here
from console.store.settings import get_setting, set_setting  # noqa: F401 - handed on: callers look here

_dumps = dumps


# -- users -----------------------------------------------------------------------
def create_user(store: Store, username: str, display_name: str, role: str, actor_name: str = "system",
                password_hash: str | None = None, is_demo: bool = False) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO users(username, display_name, role, created_at, password_hash, is_demo) VALUES (?,?,?,?,?,?)",
            (username, display_name, role, utcnow(), password_hash, int(is_demo)),
        )
        audit.append(store, actor_name, "user.created", "user", cur.lastrowid, {"username": username, "role": role,
                     "governed": governed.state(conn, "user", cur.lastrowid, password_hash=password_hash)})
    return int(cur.lastrowid)


# Every column of an account but its password hash, which is read only through password_salt and
# password_matches (on PostgreSQL a seat role may not read that column at all).
USER_COLUMNS = ("id, username, display_name, role, active, created_at, failed_logins, locked_until, is_demo,"
                " deleted_at")


def bind_session(store: Store, token: str) -> None:
    """PostgreSQL: name the session this connection works under (a setting of the connection)."""
    store.one("SELECT set_config('orc.session', ?, false) AS s", (token,))
    store.bound_session = token  # said again on the new session if this one is cut (postgres.py _connect)


def get_user(store: Store, username: str):
    return store.one(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (username,))


def password_salt(store: Store, user_id: int) -> str | None:
    """The account's scrypt parameters and salt ("scrypt$n$r$p$salt"), never its derived key; None
    when it has no password."""
    if store.dialect == "postgres":
        row = store.one("SELECT orc_password_salt(?) AS s", (user_id,))
        return row["s"] if row and row["s"] else None
    row = store.one("SELECT password_hash FROM users WHERE id = ?", (user_id,))
    return row["password_hash"].rsplit("$", 1)[0] if row and row["password_hash"] else None


def password_matches(store: Store, user_id: int, key_b64: str) -> bool | str:
    """Whether the key derived from a typed password is the stored one (compared where the hash is).

    On PostgreSQL the database counts the check against the tries taken, and a match opens a session
    it vouches for (console/store/pg_authority.py): the answer is its token, named to this connection."""
    if store.dialect == "postgres":
        token = store.one("SELECT orc_open_session(?, ?) AS t", (user_id, key_b64))["t"] or ""
        if token:
            bind_session(store, token)
        return token
    import hmac

    row = store.one("SELECT password_hash FROM users WHERE id = ?", (user_id,))
    stored = row["password_hash"].rsplit("$", 1)[1] if row and row["password_hash"] else ""
    return bool(stored) and hmac.compare_digest(stored, key_b64)


# -- deployments and cameras ----------------------------------------------------
@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    location: str
    rationale: str
    starts_at: str
    ends_at: str
    threshold: float
    threshold_floor: float
    model_id: str
    is_demo: bool = False
    legal_basis: str = ""
    dpia_ref: str = ""
    policy_ref: str = ""
    two_person_rule: bool = False
    incident_window_s: int = DEFAULT_INCIDENT_WINDOW_S


def create_deployment(store: Store, spec: DeploymentSpec, authorised_by: int | None, actor_name: str) -> int:
    """A deployment, authorised at once when ``authorised_by`` is given, else a draft."""
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO deployments(name, location, rationale, starts_at, ends_at, threshold, threshold_floor,"
            " model_id, authorised_by, authorised_at, is_demo, created_at, state, legal_basis, dpia_ref, policy_ref,"
            " two_person_rule, incident_window_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (spec.name, spec.location, spec.rationale, spec.starts_at, spec.ends_at, spec.threshold,
             spec.threshold_floor, spec.model_id, authorised_by, utcnow() if authorised_by else None,
             int(spec.is_demo), utcnow(), "authorised" if authorised_by else "draft", spec.legal_basis,
             spec.dpia_ref, spec.policy_ref, int(spec.two_person_rule), int(spec.incident_window_s)),
        )
        audit.append(store, actor_name, "deployment.created", "deployment", cur.lastrowid, {
            "name": spec.name, "location": spec.location, "starts_at": spec.starts_at, "ends_at": spec.ends_at,
            "threshold": spec.threshold, "threshold_floor": spec.threshold_floor, "model_id": spec.model_id,
            "authorised_by": authorised_by, "demo": spec.is_demo, "legal_basis": spec.legal_basis,
            "dpia_ref": spec.dpia_ref, "policy_ref": spec.policy_ref, "two_person_rule": spec.two_person_rule,
            "incident_window_s": int(spec.incident_window_s), "governed": governed.state(conn, "deployment", cur.lastrowid),
        })
    return int(cur.lastrowid)


DEPLOYMENT_STATE_COLUMNS = ("ended_at", "stopped_at", "stopped_by", "stop_reason")


def set_deployment_state(store: Store, deployment_id: int, state: str, actor_name: str, action: str, details: dict,
                         from_states: tuple[str, ...], **columns) -> bool:
    """A deployment's new state (and its columns) with its audit entry, if it is in one of ``from_states``
    (checked by the UPDATE itself: two seats stopping at once record it once); False if it was not.
    Every seat and worker follows the entry (services/runtime/live.py); the database follows the state."""
    DeploymentState.check(state, "deployment state")
    unknown = set(columns) - set(DEPLOYMENT_STATE_COLUMNS)
    if unknown:
        raise ValueError(f"not a deployment state column: {sorted(unknown)}")
    sets = "".join(f", {name} = ?" for name in columns)
    marks = ",".join("?" * len(from_states))
    with store.transaction() as conn:
        cur = conn.execute(f"UPDATE deployments SET state = ?{sets} WHERE id = ? AND state IN ({marks})",
                           (state, *columns.values(), deployment_id, *from_states))
        if cur.rowcount != 1:
            return False
        audit.append(store, actor_name, action, "deployment", deployment_id, {"state": state, **details, "governed":
                     governed.state(conn, "deployment", deployment_id, "state", *columns)})
    return True


def activate_deployment(store: Store, deployment_id: int, actor_name: str) -> None:
    """Active with no window check, for tools and tests that build records by hand (services.deployments.start
    is the way for consoles and workers)."""
    set_deployment_state(store, deployment_id, "active", actor_name, "deployment.started", {}, ("authorised",))


def get_deployment(store: Store, deployment_id: int):
    return store.one("SELECT * FROM deployments WHERE id = ?", (deployment_id,))


def add_camera(store: Store, deployment_id: int, name: str, source: str, actor_name: str) -> int:
    """A camera; its source keeps its credential (the workers connect with it), its audit entry holds
    the source redacted, and a name is shown everywhere, so it may hold none."""
    if redact(name) != name:
        raise ConsoleError("refused: a camera's name is shown on every screen and may not hold a password or token;"
                           " put the credential in the source URL")
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO cameras(deployment_id, name, source, created_at) VALUES (?, ?, ?, ?)",
            (deployment_id, name, source, utcnow()),
        )
        audit.append(store, actor_name, "camera.added", "camera", cur.lastrowid,
                     {"deployment_id": deployment_id, "name": name, "source": redact_url(source),
                      "governed": governed.state(conn, "camera", cur.lastrowid)})
    return int(cur.lastrowid)


def cameras(store: Store, deployment_id: int):
    return store.query("SELECT * FROM cameras WHERE deployment_id = ? ORDER BY id", (deployment_id,))


# -- watchlists ------------------------------------------------------------------
@dataclass(frozen=True)
class EntrySpec:
    record_number: str
    subject_name: str
    category: str
    legal_basis: str
    reason: str
    image_source: str
    image_date: str
    review_date: str
    under_18: bool = False
    under_18_justification: str = ""


def create_watchlist(store: Store, deployment_id: int, name: str, actor_name: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO watchlists(deployment_id, name, created_at) VALUES (?, ?, ?)",
                           (deployment_id, name, utcnow()))
        audit.append(store, actor_name, "watchlist.created", "watchlist", cur.lastrowid,
                     {"deployment_id": deployment_id, "name": name,
                      "rows": ledger.digests(conn, "watchlists", "id = ?", (int(cur.lastrowid),))})
    return int(cur.lastrowid)


def add_entry(store: Store, watchlist_id: int, spec: EntrySpec, added_by: int, actor_name: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO watchlist_entries(watchlist_id, record_number, subject_name, category, legal_basis,"
            " reason, image_source, image_date, added_by, added_at, review_date, under_18, under_18_justification)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (watchlist_id, spec.record_number, spec.subject_name, spec.category, spec.legal_basis, spec.reason,
             spec.image_source, spec.image_date, added_by, utcnow(), spec.review_date, int(spec.under_18),
             spec.under_18_justification),
        )
        audit.append(store, actor_name, "watchlist.entry_added", "entry", cur.lastrowid, {
            "watchlist_id": watchlist_id, "record_number": spec.record_number, "category": spec.category,
            "legal_basis": spec.legal_basis, "image_source": spec.image_source, "image_date": spec.image_date,
            "review_date": spec.review_date, "under_18": spec.under_18,
            "under_18_justification": spec.under_18_justification,
            "governed": governed.state(conn, "entry", cur.lastrowid),
        })
    return int(cur.lastrowid)


def add_entry_image(store: Store, entry_id: int, image_jpeg: bytes, embedding: np.ndarray, model_id: str,
                    quality: dict, actor_name: str) -> int:
    emb = np.asarray(embedding, dtype=np.float32).reshape(-1)
    digest = sha256(image_jpeg)
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO entry_images(entry_id, image_jpeg, image_sha256, embedding, embedding_dim, model_id,"
            " quality_json, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (entry_id, image_jpeg, digest, emb.tobytes(), emb.size, model_id, _dumps(quality), utcnow()),
        )
        audit.append(store, actor_name, "watchlist.image_added", "entry", entry_id,
                     {"image_id": cur.lastrowid, "image_sha256": digest, "model_id": model_id,
                      "quality": round(float(quality.get("score", 0.0)), 3),
                      "rows": ledger.digests(conn, "entry_images", "id = ?", (int(cur.lastrowid),))})
    return int(cur.lastrowid)


@dataclass(frozen=True)
class GalleryRows:
    """Every active entry image's embedding for one deployment and model, as one matrix."""

    matrix: np.ndarray  # (n, d) float32, rows L2-normalised
    image_ids: np.ndarray
    entry_ids: np.ndarray
    watchlist_ids: np.ndarray


def gallery_rows(store: Store, deployment_id: int, model_id: str) -> GalleryRows:
    rows = store.query(
        "SELECT i.id, i.entry_id, e.watchlist_id, i.embedding, i.embedding_dim FROM entry_images i"
        " JOIN watchlist_entries e ON e.id = i.entry_id JOIN watchlists w ON w.id = e.watchlist_id"
        " WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists)"  # test entries are never searched
        " AND i.model_id = ? AND e.removed_at IS NULL AND w.purged_at IS NULL"
        " AND i.embedding IS NOT NULL AND i.purged_at IS NULL ORDER BY i.id",
        (deployment_id, model_id),
    )
    if not rows:
        return GalleryRows(np.zeros((0, 0), np.float32), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int))
    dims = {r["embedding_dim"] for r in rows}
    if len(dims) != 1:
        raise StoreError(f"watchlist embeddings of model {model_id} have mixed sizes {sorted(dims)}")
    matrix = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return GalleryRows(
        matrix.copy(),
        np.array([r["id"] for r in rows]),
        np.array([r["entry_id"] for r in rows]),
        np.array([r["watchlist_id"] for r in rows]),
    )


# -- alerts (insert_alert and the incidents: console/store/alerts.py) -------------
def record_decision(store: Store, alert_id: int, user_id: int, decision: str, reason: str, actor_name: str,
                    supersedes: int | None = None, reason_code: str = "", duration_ms: int | None = None,
                    candidate_entry_id: int | None = None) -> int:
    """Decision row + alert status + audit entry, in one transaction. A confirmation names the
    candidate confirmed (``candidate_entry_id``, the top one if not given), with its score and
    photo hash."""
    with store.transaction() as conn:
        if supersedes is None:
            lock_incident(store, conn, alert_id)  # one decision per incident, even from two seats at once
        alert = conn.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if alert is None:
            raise StoreError(f"alert {alert_id} does not exist")
        if alert["status"] == "decided" and supersedes is None:
            raise StoreError(f"alert {alert_id} is already decided; record a correction instead")
        named = decision == "true_alert"
        which, args = ("c.entry_id = ?", (alert_id, candidate_entry_id)) if named and candidate_entry_id else (
            "c.rank = 1", (alert_id,))
        cand = conn.execute(
            "SELECT c.rank, c.entry_id, c.score, i.image_sha256 FROM alert_candidates c LEFT JOIN entry_images i"
            f" ON i.id = c.image_id WHERE c.alert_id = ? AND {which}", args).fetchone()
        if named and candidate_entry_id and cand is None:
            raise StoreError(f"watchlist entry {candidate_entry_id} is not a candidate of alert {alert_id}")
        candidate_hash = cand["image_sha256"] if cand else None
        confirmed = (int(cand["entry_id"]), float(cand["score"])) if named and cand else (None, None)
        decided_at = utcnow()
        cur = conn.execute(
            "INSERT INTO decisions(alert_id, user_id, decision, reason, decided_at, model_id, threshold, score,"
            " probe_sha256, candidate_sha256, supersedes, reason_code, duration_ms, candidate_entry_id,"
            " candidate_score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (alert_id, user_id, decision, reason, decided_at, alert["model_id"], alert["threshold"],
             alert["score"], alert["probe_sha256"], candidate_hash, supersedes, reason_code, duration_ms, *confirmed),
        )
        conn.execute("UPDATE alerts SET status = 'decided', claimed_by = NULL, claim_expires = NULL WHERE id = ?",
                     (alert_id,))
        row = conn.execute("SELECT * FROM decisions WHERE id = ?", (cur.lastrowid,)).fetchone()
        audit.append(store, actor_name, "decision.corrected" if supersedes else "decision.recorded", "alert", alert_id, {
            "row_sha256": audit.row_digest(row, audit.DECISION_FIELDS),
            "decision_id": cur.lastrowid, "decision": decision, "reason": reason, "user_id": user_id,
            "model_id": alert["model_id"], "threshold": alert["threshold"], "score": round(alert["score"], 4),
            "probe_sha256": alert["probe_sha256"], "candidate_sha256": candidate_hash, "supersedes": supersedes,
            "reason_code": reason_code, "duration_ms": duration_ms,
            **({"candidate_entry_id": confirmed[0], "candidate_rank": int(cand["rank"]),
                "candidate_score": round(confirmed[1], 4)} if confirmed[0] is not None else {}),
        })
        if supersedes is None:  # the incident's other sightings are decided with it
            close_incident(conn, store, alert_id, int(cur.lastrowid), actor_name)
    return int(cur.lastrowid)


def suppressions(store: Store, deployment_id: int, camera_id: int) -> set[tuple[int, int]]:
    """(track id, entry id) pairs judged "different person" on this camera."""
    rows = store.query("SELECT track_id, entry_id FROM suppressions WHERE deployment_id = ? AND camera_id = ?",
                       (deployment_id, camera_id))
    return {(int(r["track_id"]), int(r["entry_id"])) for r in rows}


def last_track_id(store: Store, camera_id: int) -> int:
    """The highest track number that raised an alert on this camera (0: none yet)."""
    row = store.one("SELECT COALESCE(MAX(track_id), 0) AS t FROM alerts WHERE camera_id = ?", (camera_id,))
    return int(row["t"])


def alert_status(store: Store, alert_id: int) -> str:
    row = store.one("SELECT status FROM alerts WHERE id = ?", (alert_id,))
    return row["status"] if row else ""


def record_engagement(store: Store, alert_id: int, user_id: int, result: str, action: str, notes: str,
                      actor_name: str, via: str = "relayed", extra: dict | None = None) -> int:
    """An engagement outcome; ``via``: 'handheld' (the officer's own) or 'relayed' (keyed by an operator)."""
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO engagements(alert_id, recorded_by, result, action, notes, recorded_at, recorded_via)"
            " VALUES (?,?,?,?,?,?,?)",
            (alert_id, user_id, result, action, notes, utcnow(), via),
        )
        row = conn.execute("SELECT * FROM engagements WHERE id = ?", (cur.lastrowid,)).fetchone()
        audit.append(store, actor_name, "engagement.recorded", "alert", alert_id,
                     {"engagement_id": cur.lastrowid, "result": result, "action": action, "via": via, **(extra or {}),
                      "row_sha256": audit.row_digest(row, audit.ENGAGEMENT_FIELDS)})
    return int(cur.lastrowid)


def biometric_counts(store: Store) -> dict:
    """How many enrolment images and alert crops the store holds (for selftest's privacy line)."""
    row = store.one("SELECT (SELECT COUNT(*) FROM entry_images) AS enrolled, (SELECT COUNT(*) FROM alerts) AS alerts")
    return {"enrolled": int(row["enrolled"]), "alerts": int(row["alerts"])}
