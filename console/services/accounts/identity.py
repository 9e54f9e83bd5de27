"""Who an Actor is, checked against the store (used by ``Actor.require``).

An Actor is made by sign-in or by a worker's credential; the services do not take one on trust.
Every role-checked call with the store in hand also checks that the store knows this actor as it
claims to be: an enabled, undeleted account with this id, name and role - or, for a headless
worker, a credential that is neither revoked nor expired. A made-up Actor (a script's, or the old
command line's "cli-auditor"), or a session whose account was disabled or changed since sign-in,
is refused and the refusal logged.
"""

from __future__ import annotations

from console import clock
from console.services.accounts import permissions
from console.store import Store, repo
from console.store import accounts as db


def unverified(store: Store, actor) -> str:
    """Why the store does not know this actor as it claims to be ("" when it does).

    On PostgreSQL an actor from sign-in (or a worker's credential) carries a token, and this names
    it to the connection: from then on the database itself limits what this connection may write
    to what that person's role may (console/store/pg_authority.py)."""
    if store.dialect == "postgres" and actor.token:
        repo.bind_session(store, actor.token)
        row = db.session_actor(store)
        if row["role"] is None:
            return "its sign-in session has ended or expired (sign in again)"
        if row["role"] != actor.role or int(row["id"]) != actor.user_id:
            return "the database knows this session as someone else"
    if permissions.is_worker(actor.role):
        row = db.worker_credential_lapse(store, -actor.user_id)
        if row is None or f"worker:{row['label']}" != actor.username:
            return "no such worker credential"
        if row["revoked_at"] or row["expires_at"] <= clock.now().isoformat(timespec="seconds").replace("+00:00", "Z"):
            return "its worker credential was revoked or has expired"
        return ""
    row = db.identity_of(store, actor.user_id)
    if row is None or row["username"] != actor.username:
        return "not an account of this store"
    if row["role"] != actor.role:
        return f"the account's role is {row['role']}, not {actor.role}"
    if not row["active"] or row["deleted_at"]:
        return "the account is disabled"
    return ""


def end_session(store: Store, actor) -> None:
    """Sign-out ends the database's session too: its token opens nothing afterwards."""
    if store.dialect == "postgres" and actor.token:
        db.end_database_session(store, actor.token)
        repo.bind_session(store, "")


def ever_had_administrator(store: Store) -> bool:
    """A real (not demo) administrator exists or ever was created here: the users table, or - for one
    since removed - the audit log's record of its creation."""
    if db.ever_created_administrator(store):
        return True
    created = db.users_created(store)

    return any(r["actor"] != "demo-setup" and '"role":"administrator"' in r["details_json"].replace(" ", "")
               for r in created)


def is_demo_store(store: Store) -> bool:
    """Whether this store was made as the demo's (console/services/setup/demo.py): the only place demo
    accounts exist and may sign in."""
    return repo.get_setting(store, "store", "kind") == "demo"
