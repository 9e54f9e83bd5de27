"""The released migration step of issue 31 (an alert stored before its context frame): literal SQL,
never edited once released - see console/store/migrations.py, which lists every step.

An alert used to wait for its context frame: the bystanders' faces blurred first (0.3-0.9 s on two
cores), then the alert stored. Now the alert is stored as soon as it is raised, with no context frame
(its ``context_sha256`` is that of no bytes, as for an alert whose frame could not be blurred), and the
blurred frame follows in ``alert_contexts``: one row per alert at most, only for an alert raised
without a frame of its own and not purged, logged with its digest (console/store/ledger.py), never
replaced or deleted, blanked by retention like the alert's own images.
"""

from console.store.pg_doors import _PERSON, _REFUSE
from console.store.pg_recognition import _WORKER_OF

NO_BYTES_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

V28 = f"""
CREATE TABLE alert_contexts (
    alert_id  INTEGER PRIMARY KEY REFERENCES alerts(id),
    jpeg      BLOB,
    sha256    TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TRIGGER alert_contexts_for_an_alert_without_one BEFORE INSERT ON alert_contexts
WHEN NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = NEW.alert_id AND a.purged_at IS NULL
                 AND a.context_sha256 = '{NO_BYTES_SHA256}')
BEGIN SELECT RAISE(ABORT, 'a context frame is added only to a kept alert raised without one'); END;
CREATE TRIGGER alert_contexts_only_blanked BEFORE UPDATE ON alert_contexts
WHEN NEW.alert_id IS NOT OLD.alert_id OR NEW.sha256 IS NOT OLD.sha256 OR NEW.stored_at IS NOT OLD.stored_at
     OR NEW.jpeg IS NOT NULL AND NEW.jpeg IS NOT OLD.jpeg
BEGIN SELECT RAISE(ABORT, 'an alert''s context frame is only blanked, never replaced'); END;
CREATE TRIGGER alert_contexts_no_delete BEFORE DELETE ON alert_contexts
BEGIN SELECT RAISE(ABORT, 'an alert''s context frame is never deleted (retention blanks it)'); END;
"""

_WRITER = (f"(orc_recognition_deployment() = a.deployment_id OR {_PERSON}"
           f" OR {_WORKER_OF.format(dep='a.deployment_id')})")

V28_POSTGRES = (
    "CREATE TABLE alert_contexts (alert_id BIGINT PRIMARY KEY REFERENCES alerts(id), jpeg BYTEA,"
    " sha256 TEXT NOT NULL, stored_at TEXT NOT NULL,"
    " CHECK (jpeg IS NULL OR encode(sha256(jpeg), 'hex') = sha256))",
    "CREATE FUNCTION orc_guard_alert_contexts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN "
    + _REFUSE.format(why="'an alert''s context frame is never deleted (retention blanks it)'") + "; END IF;"
    "  IF TG_OP = 'INSERT' THEN"
    "    IF NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = NEW.alert_id AND a.purged_at IS NULL"
    f"       AND a.context_sha256 = '{NO_BYTES_SHA256}') THEN "
    + _REFUSE.format(why="'a context frame is added only to a kept alert raised without one'") + "; END IF;"
    "    RETURN NEW; END IF;"
    "  IF (NEW.alert_id, NEW.sha256, NEW.stored_at) IS DISTINCT FROM (OLD.alert_id, OLD.sha256, OLD.stored_at)"
    "     OR NEW.jpeg IS NOT NULL AND NEW.jpeg IS DISTINCT FROM OLD.jpeg THEN "
    + _REFUSE.format(why="'an alert''s context frame is only blanked, never replaced'") + "; END IF;"
    "  RETURN NEW; END $$",
    "CREATE TRIGGER alert_contexts_guarded BEFORE INSERT OR UPDATE OR DELETE ON alert_contexts FOR EACH ROW"
    " EXECUTE FUNCTION orc_guard_alert_contexts()",
    "ALTER TABLE alert_contexts ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY alert_contexts_read ON alert_contexts FOR SELECT USING (true)",
    # Whoever may write the alert may add its frame: its deployment's recognition token, a worker of
    # it, or a signed-in operator or supervisor (console/store/pg_recognition.py).
    "CREATE POLICY alert_contexts_insert ON alert_contexts FOR INSERT WITH CHECK"
    f" (EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_id AND {_WRITER}))",
    "CREATE POLICY alert_contexts_update ON alert_contexts FOR UPDATE USING (true) WITH CHECK (true)",
    # Seat roles made before this step get the table too (a new one gets it from db grant-seat).
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orc_seat') THEN"
    "  GRANT SELECT, INSERT, UPDATE ON alert_contexts TO orc_seat; END IF; END $$",
)
