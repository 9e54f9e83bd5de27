"""A seat's PostgreSQL credential cannot rewrite the record (Step 11, item 3, in part): a login role
in the group orc_seat, made by the schema's owner, works the console but cannot alter or drop
anything, nor update, delete or truncate the append-only tables. Tried as that role."""

from __future__ import annotations

import os
import uuid

import pytest

from console.services.accounts import auth
from console.services.decisions import adjudication
from console.store import audit, pg_roles
from tests.factories import small_deployment

PG_URL = os.environ.get("ORC_TEST_PG_URL", "")
roles_to_drop: list[str] = []  # login roles a test made besides the fixture's (roles belong to the cluster)


@pytest.fixture
def seat_url():
    """A fresh database migrated by the owner, and the URL of a seat role made for it."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must try the seat role on PostgreSQL: ORC_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server (ORC_TEST_PG_URL)")
    import psycopg

    from console.store import open_location

    name = f"orc_seat_{uuid.uuid4().hex[:10]}"
    login = f"seat_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    owner_url = PG_URL.rsplit("/", 1)[0] + "/" + name
    with open_location(owner_url) as owner:
        pg_roles.grant_seat(owner, login, "a machine's long seat password")
    host = PG_URL.split("@", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql://{login}:{'a%20machine%27s%20long%20seat%20password'}@{host}/{name}", owner_url
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        for role in [login, *roles_to_drop]:
            admin.execute(f"DROP ROLE IF EXISTS {role}")
    roles_to_drop.clear()


PASSWORD = "harbour lights at four"


def _people(owner_url: str) -> dict[str, int]:
    """As the schema's owner: an administrator, a supervisor, two operators and an auditor (all with
    PASSWORD), and a deployment with a camera and a watchlist entry."""
    from console.store import open_location, repo

    with open_location(owner_url) as owner:
        auth.bootstrap_administrator(owner, "chief", "Chief", PASSWORD)
        small_deployment(owner, operators=("ann", "bob"))
        repo.create_user(owner, "aud", "Auditor", "auditor")
        with owner.transaction() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE username <> 'chief'", (auth.hash_password(PASSWORD),))
        return {r["username"]: int(r["id"]) for r in owner.query("SELECT id, username FROM users")}


def _alert(store) -> int:
    """An alert on the deployment _people made, written as a seat's recognition writes it: on its own
    connection, under a recognition token opened while an operator (ann) is signed in there."""
    from console.store import pg_recognition, repo

    row = store.one("SELECT d.id AS dep, c.id AS cam, e.id AS entry, i.id AS image FROM deployments d"
                    " JOIN cameras c ON c.deployment_id = d.id JOIN watchlists w ON w.deployment_id = d.id"
                    " JOIN watchlist_entries e ON e.watchlist_id = w.id JOIN entry_images i ON i.entry_id = e.id")
    rec = store.reopen()
    try:
        if rec.dialect == "postgres":
            repo.bind_session(rec, auth.login(rec, "ann", PASSWORD).token)
            repo.bind_session(rec, pg_recognition.open_token(rec, row["dep"]))
        return repo.insert_alert(rec, repo.AlertRecord(row["dep"], row["cam"], 1, [(row["entry"], row["image"], 0.7)],
                                                       0.4, "m", [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))
    finally:
        rec.close()


ATTACKS = [
    "DROP TRIGGER decisions_no_update ON decisions",
    "ALTER TABLE decisions DISABLE TRIGGER decisions_no_update",
    "UPDATE decisions SET decision = 'false_alert'",
    "DELETE FROM decisions",
    "UPDATE audit_log SET actor = 'nobody'",
    "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
    "TRUNCATE audit_log",
    "UPDATE engagements SET result = 'confirmed_false'",
    "DELETE FROM alerts",
    "ALTER TABLE alerts ADD COLUMN x INTEGER",
    "DROP TABLE audit_log",
    "CREATE TABLE mine (x INTEGER)",
    "CREATE OR REPLACE FUNCTION orc_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
]


def test_security_a_seat_role_works_the_console_but_cannot_rewrite_the_record_refused(seat_url):
    import psycopg

    from console.store import open_location

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:  # the console, as a seat: a whole decision by a signed-in operator, logged
        a = _alert(seat)
        ann = auth.login(seat, "ann", PASSWORD)
        adjudication.open_alert(seat, ann, a)
        adjudication.reject(seat, ann, a, "look_alike")
        assert audit.verify_chain(seat).ok
    with psycopg.connect(url, autocommit=True) as raw:
        for attack in ATTACKS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(attack)
    with open_location(owner_url) as owner:  # nothing changed
        assert audit.verify_chain(owner).ok and audit.verify_records(owner) == []
        assert owner.one("SELECT decision FROM decisions")["decision"] == "false_alert"


def test_security_a_seat_role_cannot_migrate_refused(seat_url):
    import psycopg

    from console.errors import StoreError
    from console.store import open_location

    url, owner_url = seat_url
    with psycopg.connect(owner_url, autocommit=True) as owner:  # as if this console were older than the schema
        owner.execute("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
    with pytest.raises(StoreError, match="the schema's owner migrates it"):
        open_location(url)


def test_security_only_a_signed_in_administrator_makes_a_seat_role_from_the_command_line(seat_url, monkeypatch):
    import io

    from console.cli import commands as cli
    from console.services.accounts import auth
    from console.store import open_location

    _url, owner_url = seat_url
    with open_location(owner_url) as owner:
        auth.bootstrap_administrator(owner, "chief", "Chief", "amber lantern over the quay")
    login = f"seat_{uuid.uuid4().hex[:10]}"
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("not the password\nanother long seat password\n"))
        assert cli.main(["db", "grant-seat", login, "--db", owner_url, "--user", "chief", "--password-stdin"]) == 2
        monkeypatch.setattr("sys.stdin", io.StringIO("amber lantern over the quay\nanother long seat password\n"))
        assert cli.main(["db", "grant-seat", login, "--db", owner_url, "--user", "chief", "--password-stdin"]) == 0
        with open_location(owner_url) as owner:
            assert owner.one("SELECT 1 AS x FROM pg_roles WHERE rolname = ?", (login,)) is not None
            assert owner.one("SELECT actor FROM audit_log WHERE action = 'store.seat_role_granted'")["actor"] == "chief"
    finally:  # the role outlives its database: drop it (after the fixture's database is gone, it owns nothing)
        roles_to_drop.append(login)


def test_security_a_seat_role_signs_people_in_without_reading_a_password_hash_refused(seat_url):
    import psycopg

    from console.services.accounts import auth
    from console.store import open_location

    url, owner_url = seat_url
    with open_location(owner_url) as owner:
        auth.bootstrap_administrator(owner, "chief", "Chief", "amber lantern over the quay")
    with open_location(url) as seat:
        assert auth.login(seat, "chief", "amber lantern over the quay").role == "administrator"
        with pytest.raises(auth.LoginError):
            auth.login(seat, "chief", "not the passphrase at all")
    with psycopg.connect(url, autocommit=True) as raw:
        for attack in ("SELECT password_hash FROM users", "SELECT * FROM users",
                       "SELECT md5(password_hash) FROM users", "SELECT 1 FROM users WHERE password_hash LIKE 'scrypt%'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(attack)
        salt = raw.execute("SELECT orc_password_salt(id) FROM users WHERE username = 'chief'").fetchone()[0]
        assert salt.startswith("scrypt$") and salt.count("$") == 4  # parameters and salt only: no derived key


# -- Step 11, item 3: a seat writes only what the signed-in person's role may (pg_authority.py) --------
def _decision_sql(alert_id: int, user_id: int) -> str:
    """A decision stating its alert's own facts (the database refuses one that does not: pg_doors.py)."""
    return ("INSERT INTO decisions(alert_id, user_id, decision, reason, decided_at, model_id, threshold, score,"
            f" probe_sha256) SELECT id, {user_id}, 'true_alert', '', '2026-01-01T09:01:00Z', model_id, threshold,"
            f" score, probe_sha256 FROM alerts WHERE id = {alert_id}")


def _as(raw, token: str) -> None:
    raw.execute("SELECT set_config('orc.session', %s, false)", (token,))


def _refused(raw, sql: str) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw.execute(sql)


def test_security_the_database_limits_each_signed_in_role_not_only_the_window_refused(seat_url):
    """Raw SQL with a seat's credential: nobody signed in writes no decision, account or deployment
    setting; an operator signed in decides only in their own name and changes no threshold, role or
    other person's password; an auditor starts nothing; a made-up session token is nobody."""
    import psycopg

    from console.store import open_location

    url, _owner_url = seat_url
    ids = _people(_owner_url)
    with open_location(url) as seat:
        a1, a2 = _alert(seat), _alert(seat)
        ann = auth.login(seat, "ann", PASSWORD)
        aud = auth.login(seat, "aud", PASSWORD)
    assert ann.token.startswith("orcs1.") and "orcs1" not in repr(ann)
    with psycopg.connect(url, autocommit=True) as raw:
        _refused(raw, _decision_sql(a1, ids["ann"]))  # nobody signed in on this connection
        _refused(raw, "INSERT INTO users(username, display_name, role, active, created_at) VALUES"
                      " ('mallory', 'M', 'administrator', 1, '2026-01-01')")
        _refused(raw, "UPDATE deployments SET threshold = 0.05")
        _refused(raw, "UPDATE users SET role = 'administrator' WHERE username = 'ann'")
        _as(raw, "orcs1." + "0" * 64)  # a made-up token is nobody
        _refused(raw, _decision_sql(a1, ids["ann"]))
        _refused(raw, "SELECT * FROM orc_sessions")
        _as(raw, ann.token)
        assert raw.execute("SELECT orc_actor_role(), orc_actor_id()").fetchone() == ("operator", ids["ann"])
        _refused(raw, _decision_sql(a1, ids["bob"]))  # in someone else's name
        _refused(raw, "UPDATE deployments SET threshold = 0.05")
        _refused(raw, "UPDATE deployments SET two_person_rule = 1 - two_person_rule, state = 'stopped'")
        _refused(raw, "UPDATE users SET role = 'supervisor' WHERE username = 'ann'")
        _refused(raw, "UPDATE users SET password_hash = 'x' WHERE username = 'bob'")
        _refused(raw, "INSERT INTO settings(scope, key, value_json, updated_at) VALUES ('retention',"
                      " 'alert_retention_days', '999', '2026-01-01')")
        _refused(raw, "INSERT INTO report_signoffs(deployment_id, user_id, signed_at, record_sha256) SELECT id,"
                      f" {ids['ann']}, '2026-01-01', 'x' FROM deployments")
        _refused(raw, "INSERT INTO deployment_checks(deployment_id, item, ticked_by, ticked_at) SELECT id,"
                      f" 'signage', {ids['ann']}, '2026-01-01' FROM deployments")  # supervisors tick the checklist
        _refused(raw, "INSERT INTO camera_credentials(camera_id, userinfo) SELECT id, 'x:y' FROM cameras")
        raw.execute(_decision_sql(a2, ids["ann"]))  # her own decision goes in (the control)
        raw.execute("UPDATE deployments SET state = 'stopped'")  # an operator may stop (the safe way)
        _as(raw, aud.token)
        _refused(raw, "UPDATE deployments SET state = 'active'")  # an auditor starts nothing
        _refused(raw, _decision_sql(a1, ids["aud"]))


def test_security_a_disabled_account_or_an_ended_session_writes_nothing_refused(seat_url):
    import psycopg

    from console.errors import ConsoleError
    from console.store import open_location

    url, _owner_url = seat_url
    ids = _people(_owner_url)
    with open_location(url) as seat:
        a = _alert(seat)
        ann, bob = auth.login(seat, "ann", PASSWORD), auth.login(seat, "bob", PASSWORD)
        chief = auth.login(seat, "chief", PASSWORD)
        auth.set_active(seat, chief, "ann", False)  # an administrator at a seat: allowed
        auth.logout(seat, bob)
    with psycopg.connect(url, autocommit=True) as raw:
        for person in (ann, bob):
            _as(raw, person.token)
            assert raw.execute("SELECT orc_actor_role()").fetchone()[0] is None
            _refused(raw, _decision_sql(a, ids[person.username]))
    with open_location(url) as seat, pytest.raises(ConsoleError, match="session has ended"):
        adjudication.open_alert(seat, bob, a)


def test_security_a_worker_credential_starts_recognition_and_nothing_more_refused(seat_url):
    import psycopg

    from console.services.accounts import worker_access
    from console.services.setup import deployments
    from console.store import open_location

    url, _owner_url = seat_url
    ids = _people(_owner_url)
    with open_location(url) as seat:
        a = _alert(seat)
        dep = int(seat.one("SELECT id FROM deployments")["id"])
        chief = auth.login(seat, "chief", PASSWORD)
        issued = worker_access.issue(seat, chief, dep, "north-gate")
        worker = worker_access.authenticate(seat, issued.token, dep)
        sup = auth.login(seat, "sup", PASSWORD)
        deployments.stop(seat, sup, dep, "shift change")
        deployments.restart(seat, sup, dep, "shift resumed")  # a supervisor at a seat: allowed
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, worker.token)
        assert raw.execute("SELECT orc_actor_role()").fetchone()[0] == "worker"
        _refused(raw, _decision_sql(a, ids["ann"]))
        _refused(raw, "UPDATE deployments SET threshold = 0.05")
        # Row-level security hides the rows from this UPDATE: nothing is changed.
        assert raw.execute("UPDATE worker_credentials SET expires_at = '2999-01-01T00:00:00Z'").rowcount == 0
        assert raw.execute("SELECT expires_at FROM worker_credentials").fetchone()[0] < "2999"


def test_security_people_work_the_console_at_a_seat_as_their_roles_allow(seat_url):
    """The same limits let the console's own paths through: an operator decides and changes her own
    password, a supervisor changes a threshold, an administrator makes an account."""
    from console.services.setup import deployments
    from console.store import open_location

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        a = _alert(seat)
        dep = int(seat.one("SELECT id FROM deployments")["id"])
        ann = auth.login(seat, "ann", PASSWORD)
        adjudication.open_alert(seat, ann, a)
        adjudication.confirm(seat, ann, a)
        auth.change_password(seat, "ann", PASSWORD, "a new and longer passphrase")
        sup = auth.login(seat, "sup", PASSWORD)
        deployments.change_threshold(seat, sup, dep, 0.45, "calibrated for this site")
        chief = auth.login(seat, "chief", PASSWORD)
        auth.create_user(seat, chief, "carl", "Carl", "operator", "another good passphrase")
        assert auth.login(seat, "carl", "another good passphrase").role == "operator"
    with open_location(owner_url) as owner:
        assert owner.one("SELECT decision FROM decisions")["decision"] == "true_alert"
        assert owner.one("SELECT threshold FROM deployments")["threshold"] == 0.45
        assert audit.verify_chain(owner).ok


def test_security_a_seat_credential_guesses_no_faster_than_the_lockout_attack_refused(seat_url):
    """Calling the sign-in function directly: no check without a try taken, one check per try, tries
    never given back, none while locked, and a lock a seat sets lasts the full lockout."""
    import psycopg

    from console.store import pg_authority

    assert pg_authority.MAX_TRIES == auth.MAX_FAILURES and pg_authority.LOCKOUT == "15 minutes" == (
        f"{int(auth.LOCKOUT.total_seconds() // 60)} minutes")
    url, owner_url = seat_url
    ids = _people(owner_url)
    ann = ids["ann"]
    with psycopg.connect(url, autocommit=True) as raw:
        salt = raw.execute("SELECT orc_password_salt(%s)", (ann,)).fetchone()[0]
        right = auth.derived_key(PASSWORD, salt)
        _refused(raw, f"SELECT orc_password_check({ann}, 'x')")  # the old, uncounted check is gone

        def guess(key: str):
            return raw.execute("SELECT orc_open_session(%s, %s)", (ann, key)).fetchone()[0]

        assert guess(right) is None  # no try taken: not even the right key is checked
        take = f"SELECT orc_take_try({ann}, '2000-01-01T00:00:00Z')"  # a seat's "now" is the database's
        assert raw.execute(take).fetchone()[0] == 1
        assert guess("wrong") is None and guess(right) is None  # one check per try
        _refused(raw, f"UPDATE users SET failed_logins = 0 WHERE id = {ann}")  # tries are not given back
        for n in range(2, 6):  # take every try left
            assert raw.execute(take).fetchone()[0] == n
        assert raw.execute(take).fetchone()[0] is None  # no sixth
        for _ in range(4):
            assert guess("wrong") is None
        locked = raw.execute(f"SELECT orc_lock_out({ann}, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z')").fetchone()[0]
        assert locked > "2026"  # the full lockout on the database's clock: a seat cannot lock "until the past"
        _refused(raw, f"UPDATE users SET locked_until = NULL WHERE id = {ann}")  # nor lift a lock
        assert raw.execute(take).fetchone()[0] is None  # locked: no try, so even the right key opens nothing
        assert guess(right) is None
    with psycopg.connect(owner_url, autocommit=True) as owner:  # the lock over (as if 15 minutes passed)
        owner.execute("UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE id = %s", (ann,))
    from console.store import open_location

    with open_location(url) as seat:
        assert auth.login(seat, "ann", PASSWORD).token  # the console's own way still signs her in


def test_security_the_owner_changing_a_governed_row_directly_fails_verify_attack(seat_url):
    """A seat's credential may no longer change a threshold or a role (above); the schema's owner can,
    without the services - and audit verify, run as a seat or as the owner, names both changes."""
    import psycopg

    from console.store import governed, open_location

    url, owner_url = seat_url
    ids = _people(owner_url)
    with open_location(url) as seat:
        assert governed.verify(seat) == []  # a seat cannot read password hashes: that field is left to the owner
        dep = int(seat.one("SELECT id FROM deployments")["id"])
    with psycopg.connect(owner_url, autocommit=True) as raw:
        raw.execute("UPDATE deployments SET threshold = 0.9 WHERE id = %s", (dep,))
        raw.execute("UPDATE users SET role = 'supervisor' WHERE username = 'ann'")
    for where in (url, owner_url):
        with open_location(where) as store:
            problems = [p.split(" (audit entry")[0] for p in governed.verify(store)]
        assert f"deployment {dep}: threshold is 0.9 in the table, the log says 0.4" in problems
        assert f'user {ids["ann"]}: role is "supervisor" in the table, the log says "operator"' in problems
