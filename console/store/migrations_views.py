"""The released migration step 29 (a further view of an alert is added by its writer only, and after
that only blanked): literal SQL, never edited once released - see console/store/migrations.py.

An alerted track keeps up to a few better views of its face (``alert_views``, console/store/alerts.py's
``add_alert_view``), each logged with its digest. Until this step nothing in the database held them:
a seat's PostgreSQL credential with no session could add a "further view" to any alert, and any
credential, or the holder of the SQLite file, could replace a view's image and its hash together, or
delete the row. The log's digest found it afterwards; now the database refuses it. A view is added
only to a kept (not purged) alert, on PostgreSQL only by whoever may write that alert (its
deployment's recognition token, a worker of it, a signed-in operator or supervisor); once added it
is only blanked by retention, never changed or deleted; and on PostgreSQL its hash must be that of
its bytes.
"""

from console.store.migrations_context import _WRITER
from console.store.pg_doors import _REFUSE

_ADDED = "a further view is added only to a kept alert"
_BLANKED = "a further view of an alert is only blanked, never replaced"
_KEPT = "a further view of an alert is never deleted (retention blanks it)"

V29 = f"""
CREATE TRIGGER alert_views_for_a_kept_alert BEFORE INSERT ON alert_views
WHEN NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = NEW.alert_id AND a.purged_at IS NULL)
BEGIN SELECT RAISE(ABORT, '{_ADDED}'); END;
CREATE TRIGGER alert_views_only_blanked BEFORE UPDATE ON alert_views
WHEN NEW.id IS NOT OLD.id OR NEW.alert_id IS NOT OLD.alert_id OR NEW.captured_at IS NOT OLD.captured_at
     OR NEW.sha256 IS NOT OLD.sha256 OR NEW.score IS NOT OLD.score OR NEW.quality_json IS NOT OLD.quality_json
     OR NEW.jpeg IS NOT NULL AND NEW.jpeg IS NOT OLD.jpeg
BEGIN SELECT RAISE(ABORT, '{_BLANKED}'); END;
CREATE TRIGGER alert_views_no_delete BEFORE DELETE ON alert_views
BEGIN SELECT RAISE(ABORT, '{_KEPT}'); END;
"""

V29_POSTGRES = (
    # NOT VALID: the rows already there are the log's to judge (`audit verify`); every new one is checked.
    "ALTER TABLE alert_views ADD CONSTRAINT alert_views_hash_is_its_own"
    " CHECK (jpeg IS NULL OR encode(sha256(jpeg), 'hex') = sha256) NOT VALID",
    "CREATE FUNCTION orc_guard_alert_views() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f"  IF TG_OP = 'DELETE' THEN {_REFUSE.format(why=repr(_KEPT))}; END IF;"
    "  IF TG_OP = 'INSERT' THEN"
    "    IF NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = NEW.alert_id AND a.purged_at IS NULL) THEN "
    + _REFUSE.format(why=repr(_ADDED)) + "; END IF;"
    "    RETURN NEW; END IF;"
    "  IF (NEW.id, NEW.alert_id, NEW.captured_at, NEW.sha256, NEW.score, NEW.quality_json)"
    "     IS DISTINCT FROM (OLD.id, OLD.alert_id, OLD.captured_at, OLD.sha256, OLD.score, OLD.quality_json)"
    "     OR NEW.jpeg IS NOT NULL AND NEW.jpeg IS DISTINCT FROM OLD.jpeg THEN "
    + _REFUSE.format(why=repr(_BLANKED)) + "; END IF;"
    "  RETURN NEW; END $$",
    "CREATE TRIGGER alert_views_guarded BEFORE INSERT OR UPDATE OR DELETE ON alert_views FOR EACH ROW"
    " EXECUTE FUNCTION orc_guard_alert_views()",
    "ALTER TABLE alert_views ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY alert_views_read ON alert_views FOR SELECT USING (true)",
    # Whoever may write the alert may add a view of it (as for its context frame, migration 28).
    "CREATE POLICY alert_views_insert ON alert_views FOR INSERT WITH CHECK"
    f" (EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_id AND {_WRITER}))",
    "CREATE POLICY alert_views_update ON alert_views FOR UPDATE USING (true) WITH CHECK (true)",
)
