"""Opening a console session: the store, the demo accounts, a login - each with its own
short-lived connection, so the UI can run them as background jobs."""

from __future__ import annotations

from pathlib import Path

from console.services.accounts import auth
from console.services.accounts.permissions import Permission
from console.services.record import retention
from console.services.setup.demo import make_demo_store
from console.store import Store, open_location, repo


def open_store(location: Path | str | None) -> Store:
    """The store at ``location`` (an SQLite data directory or a postgresql:// URL), migrated: the
    one handle the command line and the window get, to pass to the services."""
    return open_location(location)


def prepare(location: str | Path | None, demo: bool = False) -> dict:
    """Open (create, migrate) the database, run due purges; with ``demo``, make it the demo's store
    (refused for a store with real accounts or deployments) with its accounts (leaving disabled or
    deleted ones so)."""
    with open_location(location) as store:
        if demo:
            make_demo_store(store)
        report = retention.run_purges(store)
        return {"has_administrator": auth.has_administrator(store), "purged": report.summary(),
                "demo": auth.is_demo_store(store),
                "demo_accounts": auth.is_demo_store(store) and auth.demo_accounts_open(store),
                "database": str(store.path),
                "idle_lock_minutes": float(repo.get_setting(store, "ui", "idle_lock_minutes", 10))}


def login(location: str | Path | None, username: str, password: str) -> auth.Actor:
    with open_location(location) as store:
        return auth.login(store, username, password)


def unlock(location: str | Path | None, actor: auth.Actor, password: str) -> auth.Actor:
    """Re-enter the password of the signed-in user after an idle lock."""
    with open_location(location) as store:
        again = auth.login(store, actor.username, password)
        auth.audit.append(store, actor.username, "session.unlocked", "user", actor.user_id, {})
        return again


def record_lock(location: str | Path | None, actor: auth.Actor, idle_s: float) -> None:
    with open_location(location) as store:
        auth.audit.append(store, actor.username, "session.locked", "user", actor.user_id,
                          {"idle_seconds": round(idle_s)})


def grant_seat(store: Store, admin: auth.Actor, login: str, password: str) -> None:
    """As the PostgreSQL schema's owner, with the console's administrator signed in: a login role for
    seats and workers that works the console but cannot rewrite the record (console/store/pg_roles.py)."""
    from console.store import pg_roles

    admin.require(Permission.MANAGE_USERS, store)
    pg_roles.grant_seat(store, login, password)
    auth.audit.append(store, admin.username, "store.seat_role_granted", "store", "", {"role": login})
