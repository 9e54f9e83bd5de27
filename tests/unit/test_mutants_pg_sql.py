"""The SQL of the PostgreSQL rules, held where the seat-role attack tests left a change unnoticed
(issue 32's SQL mutation check, benchmarks/mutation_sql.py): whose clock the lockout functions use,
and the edges of each rule. On a real server, as the schema's owner and as a seat."""

from __future__ import annotations

import psycopg

from tests.unit.test_security_pg_seat import _people, seat_url  # noqa: F401 - the fixture, shared

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
