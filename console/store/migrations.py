"""Forward-only schema migrations. Never edit a released step: add a new one.

Each step is literal SQL, fixed when it was released (tests/unit/test_domain.py pins the text
of every released step). The schema version is kept in ``PRAGMA user_version`` (SQLite) and
every applied step is listed in ``schema_migrations`` with the time it ran. PostgreSQL runs the
same statements translated one by one (console/store/postgres.py), or - where the two
databases differ too much for that (functions, triggers with conditions) - its own literal
statements given beside the SQLite script.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.store.migrations_context import V28, V28_POSTGRES
from console.store.migrations_handheld import V21
from console.store.migrations_known_answer import V23, V24, V24_POSTGRES
from console.store.migrations_live import _V9, _V9_POSTGRES, _V10_POSTGRES, _V11, _V12, _V13, _V14, _V15_POSTGRES
from console.store.migrations_pool import V25
from console.store.migrations_setup import V17, V19
from console.store.migrations_views import V29, V29_POSTGRES
from console.store.pg_authority import V16_POSTGRES, V18_POSTGRES
from console.store.pg_doors import V26_POSTGRES
from console.store.pg_handheld import V22_POSTGRES
from console.store.pg_recognition import V27_POSTGRES

# Issue 27: a watchlist's own threshold was stored and never read (the deployment's threshold is the one
# obeyed, and governed): a value nothing obeys only misleads, so the column goes. From this step on
# the ledger tables' rows are digested into the audit log (console/store/ledger.py); a store upgraded
# here gets one entry vouching for the rows it already holds (base.Store.migrate).
_V20 = """
ALTER TABLE watchlists DROP COLUMN threshold;
"""
LEDGER_FROM = 20

_V1 = """
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);
CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('operator', 'engagement_officer', 'supervisor', 'administrator', 'auditor')),
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL
);
CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    rationale       TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    threshold       REAL NOT NULL,
    threshold_floor REAL NOT NULL,
    model_id        TEXT NOT NULL,
    authorised_by   INTEGER REFERENCES users(id),
    authorised_at   TEXT,
    is_demo         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (threshold >= threshold_floor)
);
CREATE TABLE cameras (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    name          TEXT NOT NULL,
    source        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (deployment_id, name)
);
CREATE TABLE watchlists (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    name          TEXT NOT NULL,
    threshold     REAL,
    created_at    TEXT NOT NULL,
    purged_at     TEXT
);
CREATE TABLE watchlist_entries (
    id            INTEGER PRIMARY KEY,
    watchlist_id  INTEGER NOT NULL REFERENCES watchlists(id),
    record_number TEXT NOT NULL,
    subject_name  TEXT NOT NULL,
    category      TEXT NOT NULL CHECK (category IN ('wanted_by_courts', 'wanted_suspect', 'missing_person', 'vulnerable_person', 'risk_to_others', 'bail_or_order_conditions')),
    legal_basis   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    image_source  TEXT NOT NULL,
    image_date    TEXT NOT NULL,
    added_by      INTEGER NOT NULL REFERENCES users(id),
    added_at      TEXT NOT NULL,
    review_date   TEXT NOT NULL,
    removed_at    TEXT,
    UNIQUE (watchlist_id, record_number)
);
CREATE TABLE entry_images (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES watchlist_entries(id),
    image_jpeg    BLOB,
    image_sha256  TEXT NOT NULL,
    embedding     BLOB,
    embedding_dim INTEGER NOT NULL,
    model_id      TEXT NOT NULL,
    quality_json  TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    deployment_id  INTEGER NOT NULL REFERENCES deployments(id),
    camera_id      INTEGER NOT NULL REFERENCES cameras(id),
    track_id       INTEGER NOT NULL,
    entry_id       INTEGER NOT NULL REFERENCES watchlist_entries(id),
    score          REAL NOT NULL,
    threshold      REAL NOT NULL,
    model_id       TEXT NOT NULL,
    bbox_json      TEXT NOT NULL,
    quality_json   TEXT NOT NULL,
    probe_jpeg     BLOB,
    probe_sha256   TEXT NOT NULL,
    context_jpeg   BLOB,
    context_sha256 TEXT NOT NULL,
    captured_at    TEXT NOT NULL,
    stored_at      TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'decided')),
    purged_at      TEXT
);
CREATE INDEX alerts_pending ON alerts(deployment_id, status, stored_at);
CREATE TABLE alert_candidates (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    rank     INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES watchlist_entries(id),
    image_id INTEGER REFERENCES entry_images(id),
    score    REAL NOT NULL,
    PRIMARY KEY (alert_id, rank)
);
CREATE TABLE decisions (
    id               INTEGER PRIMARY KEY,
    alert_id         INTEGER NOT NULL REFERENCES alerts(id),
    user_id          INTEGER NOT NULL REFERENCES users(id),
    decision         TEXT NOT NULL CHECK (decision IN ('true_alert', 'false_alert')),
    reason           TEXT NOT NULL DEFAULT '',
    decided_at       TEXT NOT NULL,
    model_id         TEXT NOT NULL,
    threshold        REAL NOT NULL,
    score            REAL NOT NULL,
    probe_sha256     TEXT NOT NULL,
    candidate_sha256 TEXT,
    supersedes       INTEGER REFERENCES decisions(id)
);
CREATE TABLE engagements (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    result      TEXT NOT NULL CHECK (result IN ('confirmed_true', 'confirmed_false', 'not_located')),
    action      TEXT NOT NULL DEFAULT '',
    notes       TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    supersedes  INTEGER REFERENCES engagements(id)
);
CREATE TABLE settings (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value_json TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users(id),
    PRIMARY KEY (scope, key)
);
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL DEFAULT '',
    subject_id   TEXT NOT NULL DEFAULT '',
    details_json TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
-- The record cannot be quietly changed: decisions, engagements and the audit log are
-- append-only at the database level; corrections are new rows that reference the old.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a correction instead'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a correction instead'); END;
CREATE TRIGGER engagements_no_update BEFORE UPDATE ON engagements
BEGIN SELECT RAISE(ABORT, 'engagements are append-only: record a correction instead'); END;
CREATE TRIGGER engagements_no_delete BEFORE DELETE ON engagements
BEGIN SELECT RAISE(ABORT, 'engagements are append-only: record a correction instead'); END;
"""

# Aggregate counts only - never identities - of every face analysed, for the
# supervisors' error-rate and equality reports (Bridges: score distributions for all
# comparisons, not only alerts).
_V2 = """
CREATE TABLE face_stats (
    deployment_id  INTEGER NOT NULL REFERENCES deployments(id),
    camera_id      INTEGER NOT NULL REFERENCES cameras(id),
    day            TEXT NOT NULL,
    faces_analysed INTEGER NOT NULL DEFAULT 0,
    faces_gated    INTEGER NOT NULL DEFAULT 0,
    score_hist     TEXT NOT NULL,
    PRIMARY KEY (deployment_id, camera_id, day)
);
"""

# The operator's review: structured reject reasons, how long a decision took, priorities,
# escalation, the events of each alert (opened, escalated, returned), further views of an
# alerted track, and "different person" suppressions.
_V3 = """
ALTER TABLE decisions ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';
ALTER TABLE decisions ADD COLUMN duration_ms INTEGER;
ALTER TABLE alerts ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
ALTER TABLE alerts ADD COLUMN escalated_at TEXT;
CREATE TABLE alert_events (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    event        TEXT NOT NULL CHECK (event IN ('opened', 'escalated', 'returned')),
    at           TEXT NOT NULL,
    details_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events(alert_id, at);
CREATE TABLE alert_views (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    captured_at  TEXT NOT NULL,
    jpeg         BLOB,
    sha256       TEXT NOT NULL,
    score        REAL NOT NULL,
    quality_json TEXT NOT NULL
);
CREATE TABLE suppressions (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    camera_id     INTEGER NOT NULL REFERENCES cameras(id),
    track_id      INTEGER NOT NULL,
    entry_id      INTEGER NOT NULL REFERENCES watchlist_entries(id),
    decision_id   INTEGER NOT NULL REFERENCES decisions(id),
    created_at    TEXT NOT NULL
);
CREATE TRIGGER alert_events_no_update BEFORE UPDATE ON alert_events
BEGIN SELECT RAISE(ABORT, 'alert_events are append-only'); END;
CREATE TRIGGER alert_events_no_delete BEFORE DELETE ON alert_events
BEGIN SELECT RAISE(ABORT, 'alert_events are append-only'); END;
"""

# Accountability: logins, deployment states and references, watchlist governance extras,
# retention bookkeeping, the two-person rule.
_V4 = """
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
ALTER TABLE users ADD COLUMN is_demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN state TEXT NOT NULL DEFAULT 'authorised';
ALTER TABLE deployments ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN dpia_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN policy_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN ended_at TEXT;
ALTER TABLE deployments ADD COLUMN two_person_rule INTEGER NOT NULL DEFAULT 0;
ALTER TABLE watchlist_entries ADD COLUMN under_18 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE watchlist_entries ADD COLUMN under_18_justification TEXT NOT NULL DEFAULT '';
ALTER TABLE entry_images ADD COLUMN purged_at TEXT;
ALTER TABLE alerts ADD COLUMN first_confirmed_by INTEGER REFERENCES users(id);
CREATE TABLE purges (
    id           INTEGER PRIMARY KEY,
    rule         TEXT NOT NULL,
    ran_at       TEXT NOT NULL,
    items        INTEGER NOT NULL,
    details_json TEXT NOT NULL
);
"""

# Supervisor review: blind re-decisions of sampled alerts, and report sign-offs.
_V5 = """
CREATE TABLE review_samples (
    id                INTEGER PRIMARY KEY,
    sample            TEXT NOT NULL,
    alert_id          INTEGER NOT NULL REFERENCES alerts(id),
    drawn_by          INTEGER NOT NULL REFERENCES users(id),
    drawn_at          TEXT NOT NULL,
    original_decision TEXT NOT NULL,
    blind_decision    TEXT,
    decided_by        INTEGER REFERENCES users(id),
    decided_at        TEXT,
    UNIQUE (sample, alert_id)
);
CREATE TABLE report_signoffs (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    signed_at     TEXT NOT NULL,
    record_sha256 TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
"""

# Equality monitoring (Bridges, paras 173-201): optional, supervisor-only demographic fields
# recorded against an engagement outcome, append-only like the outcome itself.
_V6 = """
CREATE TABLE engagement_demographics (
    id            INTEGER PRIMARY KEY,
    engagement_id INTEGER NOT NULL REFERENCES engagements(id),
    sex           TEXT NOT NULL CHECK (sex IN ('female', 'male', 'not_stated')),
    ethnic_group  TEXT NOT NULL CHECK (ethnic_group IN ('asian', 'black', 'mixed', 'white', 'other', 'not_stated')),
    recorded_by   INTEGER NOT NULL REFERENCES users(id),
    recorded_at   TEXT NOT NULL
);
CREATE TRIGGER engagement_demographics_no_update BEFORE UPDATE ON engagement_demographics
BEGIN SELECT RAISE(ABORT, 'engagement_demographics are append-only'); END;
CREATE INDEX decisions_alert ON decisions(alert_id, id);
CREATE INDEX alerts_stored ON alerts(stored_at);
"""

# Several seats: an alert is claimed (with a lease) by the operator who opens it, and the
# database itself refuses a second decision on one alert (a correction is the only way).
_V7 = """
ALTER TABLE alerts ADD COLUMN claimed_by INTEGER REFERENCES users(id);
ALTER TABLE alerts ADD COLUMN claim_expires TEXT;
CREATE UNIQUE INDEX decisions_one_per_alert ON decisions(alert_id) WHERE supersedes IS NULL;
"""

# Headless recognition workers report in, so that every console can see them and their cameras.
_V8 = """
CREATE TABLE worker_heartbeats (
    worker_id     TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    cameras_json  TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    state         TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str  # the SQLite script
    postgres: tuple[str, ...] | None = None  # PostgreSQL's own statements; None: translate ``sql``


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema: deployments, watchlists, alerts, decisions, audit log", _V1),
    Migration(2, "aggregate face statistics (no identities)", _V2),
    Migration(3, "operator review: reject reasons, decision time, priority, escalation, alert events, track views,"
                 " suppressions", _V3),
    Migration(4, "accountability: logins and lockout, deployment states and references, under-18 justification,"
                 " retention bookkeeping, two-person rule", _V4),
    Migration(5, "supervisor review: blind review samples, report sign-offs", _V5),
    Migration(6, "equality monitoring fields on engagement outcomes; indexes for the decision log", _V6),
    Migration(7, "claims with leases; one decision per alert enforced by a unique index", _V7),
    Migration(8, "heartbeats of headless recognition workers", _V8),
    Migration(9, "the human-oversight stop; alerts only for an active deployment (enforced by the database)",
              _V9, _V9_POSTGRES),
    Migration(10, "PostgreSQL: audit numbers and their high water mark committed with the entry (no gaps after a"
                  " rollback)", "", _V10_POSTGRES),
    Migration(11, "decisions name the confirmed candidate; the two-person rule's first candidate", _V11),
    Migration(12, "incidents: alerts for one subject within the deployment's incident window are decided once",
              _V12),
    Migration(13, "accounts deleted by an administrator keep their row, marked deleted", _V13),
    Migration(14, "credentials of headless workers: hashed, for one deployment, expiring, revocable", _V14),
    Migration(15, "PostgreSQL: sign-in checks a password without reading its hash (owner's-rights functions)", "",
              _V15_POSTGRES),
    Migration(16, "PostgreSQL: sign-in opens a session the database vouches for; row-level security and guards"
                  " limit each role's writes", "", V16_POSTGRES),
    Migration(17, "deployments set up without code: the pre-deployment checklist, camera credentials kept apart,"
                  " the frozen watchlist's hash on deployments and alerts", V17),
    Migration(18, "PostgreSQL: row-level security on the checklist and camera credentials (supervisors tick, "
                  "administrators and supervisors keep credentials)", "", V18_POSTGRES),
    Migration(19, "report sign-offs keep the signed record (frozen; later changes are an addendum)", V19),
    Migration(20, "watchlists lose the threshold nothing obeyed; the audit log carries row digests", _V20),
    Migration(21, "the engagement officer's handheld: pairings, devices, dispatches and their delivery; who recorded"
                  " an engagement (the officer, or an operator relaying it)", V21),
    Migration(22, "PostgreSQL: a paired handheld's token is a session the database vouches for; devices made only"
                  " by the owner's pairing function; row-level security on pairings, devices, dispatches and stages",
              "", V22_POSTGRES),
    Migration(23, "known-answer test alerts: a force's proficiency set, the test watchlist of each deployment, and"
                  " each test alert marked as one from the moment it is made", V23),
    Migration(24, "known-answer marks only on tests: an alert only on a test entry, a watchlist only while empty",
              V24, V24_POSTGRES),
    Migration(25, "camera leases held by the workers of a pool, the pool's members, an idempotency key per alert", V25),
    Migration(26, "PostgreSQL: the lockout moves only through owner's-rights functions; row-level security and a guard"
                  " on alerts, claims and decisions", "", V26_POSTGRES),
    Migration(27, "PostgreSQL: recognition writes alerts under a token of its own; none with no session", "", V27_POSTGRES),
    Migration(28, "an alert stored before its context frame, which follows in alert_contexts (added once, blanked by"
                  " retention, never replaced)", V28, V28_POSTGRES),
    Migration(29, "a further view of an alert added only by its writer, to a kept alert; then only blanked", V29,
              V29_POSTGRES),
]
LATEST = MIGRATIONS[-1].version
