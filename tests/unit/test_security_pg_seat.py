"""A seat's PostgreSQL credential cannot rewrite the record (Step 11, item 3, in part): a login role
in the group orc_seat, made by the schema's owner, works the console but cannot alter or drop
anything, nor update, delete or truncate the append-only tables. Tried as that role."""

from __future__ import annotations

import os
import uuid

import pytest

from console.services import review
from console.services.auth import actor_for
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
    with open_location(url) as seat:  # the console, as a seat: a whole decision, logged
        d = small_deployment(seat, operators=("ann",))
        a = d.alert()
        ann = actor_for(seat, "ann")
        review.open_alert(seat, ann, a)
        review.reject(seat, ann, a, "look_alike")
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

    from console import cli
    from console.services import auth
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

    from console.services import auth
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


def test_security_a_seat_changing_a_governed_row_directly_fails_verify_attack(seat_url):
    """A seat may update deployments and users (the console does), so its credential can change a
    threshold or a role without the services: audit verify, as the seat or the owner, names it."""
    import psycopg

    from console.store import governed, open_location

    url, owner_url = seat_url
    with open_location(url) as seat:
        d = small_deployment(seat, operators=("ann",))
        assert governed.verify(seat) == []  # a seat cannot read password hashes: that field is left to the owner
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("UPDATE deployments SET threshold = 0.9 WHERE id = %s", (d.deployment_id,))
        raw.execute("UPDATE users SET role = 'supervisor' WHERE username = 'ann'")
    for where in (url, owner_url):
        with open_location(where) as store:
            problems = governed.verify(store)
        assert [p.split(" (audit entry")[0] for p in problems] == [
            f"deployment {d.deployment_id}: threshold is 0.9 in the table, the log says 0.4",
            'user 2: role is "supervisor" in the table, the log says "operator"']
