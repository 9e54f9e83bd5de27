"""The released migration step of Step 17 (known-answer test alerts): literal SQL, never edited once
released - see console/store/migrations.py, which lists every step."""

# Step 17: operators measured on incidents whose truth is known.
# - proficiency_sets / proficiency_items: a force's own set of pairs (a live-like capture - the frame,
#   the face's box in it, the face crop and its quality as the pipeline measures it - beside a
#   watchlist-style photo, mated or not, with the model's score), loaded by a supervisor;
# - known_answer_watchlists: the watchlist of each deployment that holds the test entries (never
#   searched, never counted: console/store/known_answer.py);
# - known_answer_alerts: an alert that is a test, marked in the same transaction that makes it
#   (append-only: a crash or a restart cannot turn it real, and no one can unmark it).
V23 = """
CREATE TABLE proficiency_sets (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    model_id      TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    loaded_by     INTEGER NOT NULL REFERENCES users(id),
    loaded_at     TEXT NOT NULL
);
CREATE TABLE proficiency_items (
    id              INTEGER PRIMARY KEY,
    set_id          INTEGER NOT NULL REFERENCES proficiency_sets(id),
    mated           INTEGER NOT NULL CHECK (mated IN (0, 1)),
    hard            INTEGER NOT NULL DEFAULT 0,
    probe_person    TEXT NOT NULL,
    photo_person    TEXT NOT NULL,
    probe_jpeg      BLOB NOT NULL,
    context_jpeg    BLOB NOT NULL,
    bbox_json       TEXT NOT NULL,
    quality_json    TEXT NOT NULL,
    photo_jpeg      BLOB NOT NULL,
    photo_embedding BLOB NOT NULL,
    embedding_dim   INTEGER NOT NULL,
    score           REAL NOT NULL
);
CREATE TABLE known_answer_watchlists (
    watchlist_id  INTEGER PRIMARY KEY REFERENCES watchlists(id),
    deployment_id INTEGER NOT NULL UNIQUE REFERENCES deployments(id),
    made_at       TEXT NOT NULL
);
CREATE TABLE known_answer_alerts (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts(id),
    item_id  INTEGER NOT NULL REFERENCES proficiency_items(id),
    mated    INTEGER NOT NULL CHECK (mated IN (0, 1)),
    made_at  TEXT NOT NULL
);
CREATE TRIGGER known_answer_alerts_no_update BEFORE UPDATE ON known_answer_alerts
BEGIN SELECT RAISE(ABORT, 'a known-answer test stays a test'); END;
CREATE TRIGGER known_answer_alerts_no_delete BEFORE DELETE ON known_answer_alerts
BEGIN SELECT RAISE(ABORT, 'a known-answer test stays a test'); END;
CREATE TRIGGER known_answer_watchlists_no_update BEFORE UPDATE ON known_answer_watchlists
BEGIN SELECT RAISE(ABORT, 'a known-answer watchlist stays one'); END;
CREATE TRIGGER known_answer_watchlists_no_delete BEFORE DELETE ON known_answer_watchlists
BEGIN SELECT RAISE(ABORT, 'a known-answer watchlist stays one'); END;
"""

# Step 17: a test mark cannot be put on what is not a test. A real alert marked a test would leave every
# figure, and a real watchlist marked one would never be searched again: the database refuses both -
# an alert is marked only when its entry is in the deployment's test watchlist (which the gallery never
# searches, so no real alert has such an entry), and a watchlist only while it holds no entry.
V24 = """
CREATE TRIGGER known_answer_alerts_only_tests BEFORE INSERT ON known_answer_alerts
WHEN (SELECT e.watchlist_id FROM alerts a JOIN watchlist_entries e ON e.id = a.entry_id WHERE a.id = NEW.alert_id)
     NOT IN (SELECT watchlist_id FROM known_answer_watchlists)
BEGIN SELECT RAISE(ABORT, 'only an alert on a known-answer test entry is a test'); END;
CREATE TRIGGER known_answer_watchlists_only_new BEFORE INSERT ON known_answer_watchlists
WHEN EXISTS (SELECT 1 FROM watchlist_entries WHERE watchlist_id = NEW.watchlist_id)
BEGIN SELECT RAISE(ABORT, 'a watchlist that holds entries cannot become a known-answer watchlist'); END;
"""
V24_POSTGRES = (
    "CREATE FUNCTION orc_known_answer_alert_is_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF (SELECT e.watchlist_id FROM alerts a JOIN watchlist_entries e ON e.id = a.entry_id WHERE a.id = NEW.alert_id)"
    "  NOT IN (SELECT watchlist_id FROM known_answer_watchlists) THEN"
    "  RAISE EXCEPTION 'only an alert on a known-answer test entry is a test'; END IF;"
    " RETURN NEW; END $$",
    "CREATE TRIGGER known_answer_alerts_only_tests BEFORE INSERT ON known_answer_alerts FOR EACH ROW"
    " EXECUTE FUNCTION orc_known_answer_alert_is_test()",
    "CREATE FUNCTION orc_known_answer_watchlist_is_new() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF EXISTS (SELECT 1 FROM watchlist_entries WHERE watchlist_id = NEW.watchlist_id) THEN"
    "  RAISE EXCEPTION 'a watchlist that holds entries cannot become a known-answer watchlist'; END IF;"
    " RETURN NEW; END $$",
    "CREATE TRIGGER known_answer_watchlists_only_new BEFORE INSERT ON known_answer_watchlists FOR EACH ROW"
    " EXECUTE FUNCTION orc_known_answer_watchlist_is_new()",
)
