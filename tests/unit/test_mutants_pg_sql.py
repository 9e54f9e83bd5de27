"""The SQL of the PostgreSQL rules, held where the seat-role attack tests left a change unnoticed
(issue 32's SQL mutation check, benchmarks/mutation_sql.py): whose clock the lockout functions use,
and the edges of each rule. On a real server, as the schema's owner and as a seat."""

from __future__ import annotations

import psycopg
import pytest

from tests.unit.test_security_pg_seat import _as, _people, _refused, seat_url  # noqa: F401 - the fixture, shared

FAR = "2999-01-01T00:00:00Z"
LOCKED = "2100-01-01T00:00:00Z"


def _lock(owner, name: str, until: str | None, tries: int = 0) -> None:
    owner.execute("UPDATE users SET locked_until = %s, failed_logins = %s WHERE username = %s", (until, tries, name))


def test_the_owner_counts_and_locks_on_the_clock_it_gives_a_seat_only_on_the_databases(seat_url):  # noqa: F811
    url, owner_url = seat_url
    ids = _people(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as owner, psycopg.connect(url, autocommit=True) as seat:
        _lock(owner, "bob", LOCKED)
        # The owner (tests, the single-owner setup) passes the console's clock: in 2999 the lock is over.
        assert owner.execute("SELECT orc_take_try(%s, %s)", (ids["bob"], FAR)).fetchone()[0] == 1
        _lock(owner, "bob", LOCKED)
        # A seat's clock is the database's, whatever it passes: bob is still locked now.
        assert seat.execute("SELECT orc_take_try(%s, %s)", (ids["bob"], FAR)).fetchone()[0] is None
        assert owner.execute("SELECT failed_logins FROM users WHERE id = %s", (ids["bob"],)).fetchone()[0] == 0
        # Locking: the owner's lock lasts as long as it says; a seat's the full fifteen minutes from now.
        _lock(owner, "bob", None, tries=5)
        assert owner.execute("SELECT orc_lock_out(%s, %s, %s)", (ids["bob"], FAR, "2026-01-01T00:00:00Z")
                             ).fetchone()[0] == FAR
        _lock(owner, "ann", None, tries=5)
        until = seat.execute("SELECT orc_lock_out(%s, %s, %s)", (ids["ann"], FAR, FAR)).fetchone()[0]
        assert until < "2100" and until > "2026"
        in_15 = owner.execute("SELECT to_char((now() + interval '15 minutes') AT TIME ZONE 'UTC',"
                              " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')").fetchone()[0]
        assert until <= in_15


def test_the_edges_of_the_lockout_functions_as_the_owner(seat_url):  # noqa: F811
    url, owner_url = seat_url
    ids = _people(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        _lock(owner, "bob", LOCKED)  # a try counts from the very second the lock ends
        assert owner.execute("SELECT orc_take_try(%s, %s)", (ids["bob"], LOCKED)).fetchone()[0] == 1
        _lock(owner, "bob", LOCKED, tries=5)  # and a lock is renewed from that second too
        assert owner.execute("SELECT orc_lock_out(%s, %s, %s)", (ids["bob"], FAR, LOCKED)).fetchone()[0] == FAR
        _lock(owner, "ann", None, tries=5)  # with either time missing, the database's clock and the full lockout
        until = owner.execute("SELECT orc_lock_out(%s, NULL, %s)", (ids["ann"], FAR)).fetchone()[0]
        assert until is not None and "2026" < until < "2100"


def test_a_schema_owner_that_is_no_superuser_is_not_taken_for_a_seat(seat_url):  # noqa: F811
    """Production's owner is an ordinary role: the lockout functions must know it by ownership."""
    import uuid

    from tests.unit.test_security_pg_seat import PG_URL

    role, name = f"own_{uuid.uuid4().hex[:8]}", f"orc_own_{uuid.uuid4().hex[:8]}"
    base = PG_URL.rsplit("/", 1)[0]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE DATABASE {name} OWNER {role}")
    try:
        owner_url = base.replace("postgres@", f"{role}@", 1) + "/" + name
        ids = _people(owner_url)
        with psycopg.connect(owner_url, autocommit=True) as owner:
            assert not owner.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            _lock(owner, "bob", LOCKED)
            assert owner.execute("SELECT orc_take_try(%s, %s)", (ids["bob"], FAR)).fetchone()[0] == 1
            owner.execute("UPDATE users SET failed_logins = 3 WHERE username = 'ann'")  # the guards let it
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            admin.execute(f"DROP ROLE {role}")


def _recognition(raw, person_token: str, dep: int) -> str:
    _as(raw, person_token)
    return raw.execute("SELECT orc_open_recognition(%s)", (dep,)).fetchone()[0]


def test_a_sighting_joins_or_attaches_to_its_incident_only_as_the_console_places_it(seat_url):  # noqa: F811
    from console.services.accounts import auth
    from console.services.decisions import adjudication
    from console.store import open_location
    from tests.unit.test_security_pg_doors import _alert_sql
    from tests.unit.test_security_pg_seat import PASSWORD, _alert

    url, owner_url = seat_url
    ids = _people(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute("UPDATE deployments SET incident_window_s = 36000")
    with open_location(url) as seat:
        ann = auth.login(seat, "ann", PASSWORD)
        a1 = _alert(seat)
        adjudication.open_alert(seat, ann, a1)  # ann's claim on the incident
        a2 = _alert(seat)  # a new sighting joins it, taking its claim: written by recognition, not by ann
        row = seat.one("SELECT incident_id, claimed_by, status FROM alerts WHERE id = ?", (a2,))
        assert (row["incident_id"], row["claimed_by"], row["status"]) == (a1, ids["ann"], "pending")
        adjudication.confirm(seat, ann, a1)
        a3 = _alert(seat)  # the incident is decided: a new sighting is attached to it, decided
        row = seat.one("SELECT incident_id, status FROM alerts WHERE id = ?", (a3,))
        assert (row["incident_id"], row["status"]) == (a1, "decided")
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute("UPDATE deployments SET incident_window_s = 0")
    with open_location(url) as seat:
        b1, b2, z = _alert(seat), _alert(seat), _alert(seat)  # three incidents of their own, pending
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute("UPDATE alerts SET incident_id = %s WHERE id = %s", (b1, b2))  # b2 in b1's incident
        owner.execute("UPDATE alerts SET claimed_by = %s, claim_expires = %s WHERE id IN (%s, %s)",
                      (ids["ann"], FAR, b1, z))
        owner.execute("UPDATE alerts SET claimed_by = NULL, claim_expires = NULL WHERE id = %s", (b1,))
        dep, cam = owner.execute("SELECT deployment_id, camera_id FROM alerts WHERE id = %s", (b1,)).fetchone()
    with open_location(url) as seat:
        ann = auth.login(seat, "ann", PASSWORD)
    with psycopg.connect(url, autocommit=True) as raw:
        token = _recognition(raw, ann.token, dep)
        _as(raw, token)
        # Decided with no decision on it or its incident (another incident's decision does not count).
        _refused(raw, f"UPDATE alerts SET status = 'decided' WHERE id = {b1}")
        # Already in an incident: recognition copies no claim onto it, even one its incident's sibling has.
        _refused(raw, f"UPDATE alerts SET claimed_by = {ids['ann']}, claim_expires = '{FAR}' WHERE id = {b2}")
        # Joining: only the state of a pending sighting of the incident it joins, not another incident's.
        c = raw.execute(_alert_sql(dep, cam) + " RETURNING id").fetchone()[0]
        _refused(raw, f"UPDATE alerts SET incident_id = {b1}, claimed_by = {ids['ann']}, claim_expires = '{FAR}'"
                      f" WHERE id = {c}")
        raw.execute(f"UPDATE alerts SET incident_id = {b1} WHERE id = {c}")  # b1's own (unclaimed) state: allowed


def test_a_first_confirmation_is_taken_in_ones_own_name_and_a_claim_leaves_anothers_as_it_is(seat_url):  # noqa: F811
    from console.services.accounts import auth
    from console.store import open_location
    from tests.unit.test_security_pg_seat import PASSWORD, _alert

    url, owner_url = seat_url
    ids = _people(owner_url)
    with open_location(url) as seat:
        a1, a2 = _alert(seat), _alert(seat)
        ann = auth.login(seat, "ann", PASSWORD)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        entry = owner.execute("SELECT entry_id FROM alerts WHERE id = %s", (a2,)).fetchone()[0]
        owner.execute("UPDATE alerts SET first_confirmed_by = %s, first_confirmed_entry = %s WHERE id = %s",
                      (ids["bob"], entry, a2))
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, ann.token)
        raw.execute(f"UPDATE alerts SET first_confirmed_by = {ids['ann']}, first_confirmed_entry = {entry}"
                    f" WHERE id = {a1}")  # her own first confirmation
        raw.execute(f"UPDATE alerts SET claimed_by = {ids['ann']}, claim_expires = '{FAR}' WHERE id = {a2}")  # bob's kept
        _refused(raw, f"UPDATE alerts SET first_confirmed_by = {ids['bob']} WHERE id = {a1}")  # not in bob's name


def test_a_lease_runs_no_more_than_60_s_ahead(seat_url):  # noqa: F811
    from console.store import leases, open_location

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        dep = int(seat.one("SELECT id FROM deployments WHERE name = 'D'")["id"])
        with seat.transaction() as conn:
            leases.join(conn, seat.dialect, "w1", dep, "host-1")
            cam = next(iter(leases.take(seat, conn, "w1", "worker:w1", dep, 1, 4.0)))
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute(f"UPDATE camera_leases SET expires_s = EXTRACT(EPOCH FROM clock_timestamp()) + 59.5"
                    f" WHERE camera_id = {cam}")
        _refused(raw, f"UPDATE camera_leases SET expires_s = EXTRACT(EPOCH FROM clock_timestamp()) + 60.5"
                      f" WHERE camera_id = {cam}")


def test_a_right_fifth_password_still_signs_in_and_one_sign_out_ends_only_its_own_session(seat_url):  # noqa: F811
    from console.services.accounts import auth
    from console.store import open_location
    from tests.unit.test_security_pg_seat import PASSWORD

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        for _ in range(auth.MAX_FAILURES - 1):
            with pytest.raises(auth.LoginError):
                auth.login(seat, "bob", "not his password at all")
        bob = auth.login(seat, "bob", PASSWORD)  # the fifth try, right: in
        ann = auth.login(seat, "ann", PASSWORD)
        auth.logout(seat, ann)
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, bob.token)
        assert raw.execute("SELECT orc_actor_role()").fetchone()[0] == "operator"  # bob's session lives on
        _as(raw, ann.token)
        assert raw.execute("SELECT orc_actor_role()").fetchone()[0] is None


def test_a_worker_may_start_its_deployment_and_nothing_else(seat_url):  # noqa: F811
    from console.services.accounts import auth, worker_access
    from console.store import open_location
    from tests.unit.test_security_pg_seat import PASSWORD

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        dep = int(seat.one("SELECT id FROM deployments WHERE name = 'D'")["id"])
        chief = auth.login(seat, "chief", PASSWORD)
        worker = worker_access.authenticate(seat, worker_access.issue(seat, chief, dep, "gate").token, dep)
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute("UPDATE deployments SET state = 'authorised' WHERE id = %s", (dep,))
    with psycopg.connect(url, autocommit=True) as raw:
        _as(raw, worker.token)
        _refused(raw, f"UPDATE deployments SET state = 'stopped' WHERE id = {dep}")
        raw.execute(f"UPDATE deployments SET state = 'active' WHERE id = {dep}")
