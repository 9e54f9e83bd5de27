"""Watchlist entries one at a time: read with their ids, edited, removed (CSV import and adding
are in enrol.py).

An edit or a removal is checked like an addition (every governance field, a supervisor), is
logged with the changed governed values (a name and a reason only as their hashes), and, once the
deployment is authorised, goes through ``deployment_setup.watchlist_change``: refused unless it
is a supervisor's amendment with a reason. A removed entry keeps its row, marked removed
(``removed_at``): alerts and decisions still name it, and it is no longer searched.
"""

from __future__ import annotations

import dataclasses

from console.redaction import redact
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.setup import deployment_setup, deployments
from console.services.setup.enrol import GovernanceError, check_spec
from console.store import Store, audit, governed, repo
from console.store import watchlists as db

# column -> the governed fields it feeds (console/store/governed.py)
_GOVERNED_OF = {"subject_name": ("subject_name_sha256",), "reason": ("reason_sha256",),
                "image_source": ("image_source", "image_source_sha256")}
EntrySpec = repo.EntrySpec  # for the screens, which do not import the store
FIELDS = tuple(f.name for f in dataclasses.fields(repo.EntrySpec))


def _entry(store: Store, entry_id: int):
    row = db.entry_with_deployment(store, entry_id)
    if row is None:
        raise GovernanceError(f"watchlist entry {entry_id} does not exist")
    return row


def entries(store: Store, actor: Actor, deployment_id: int, removed: bool = False) -> list[dict]:
    """The entries a supervisor edits: id, every governance field, photos held (no image)."""
    actor.require(Permission.VIEW_WATCHLIST, store)
    rows = db.entries_listed(store, deployment_id, removed)
    return [{**dict(r), "under_18": bool(r["under_18"]), "image_source": redact(r["image_source"])} for r in rows]


def spec_of(store: Store, actor: Actor, entry_id: int) -> repo.EntrySpec:
    """The entry's governance fields as they stand, to edit."""
    actor.require(Permission.VIEW_WATCHLIST, store)
    row = _entry(store, entry_id)
    return repo.EntrySpec(**{k: (bool(row[k]) if k == "under_18" else row[k]) for k in FIELDS})


def photo(store: Store, actor: Actor, entry_id: int) -> bytes | None:
    """The entry's first photo still held (JPEG), for the supervisor's screen."""
    actor.require(Permission.VIEW_WATCHLIST, store)
    row = db.first_photo(store, entry_id)
    return bytes(row["image_jpeg"]) if row else None


def edit_entry(store: Store, actor: Actor, entry_id: int, spec: repo.EntrySpec, amendment: str = "") -> list[str]:
    """Change an entry's governance fields; returns the names of the fields changed (none: nothing
    is written)."""
    actor.require(Permission.ENROL, store)
    row = _entry(store, entry_id)
    if row["removed_at"] is not None:
        raise GovernanceError(f"entry {row['record_number']} was removed on {row['removed_at'][:10]}; it is not edited")
    dep_id = int(row["deployment_id"])
    deployments.ensure_writable(store, dep_id)
    check_spec(actor, spec)
    new = dataclasses.asdict(spec)
    new["under_18"] = int(spec.under_18)
    changed = [k for k in FIELDS if new[k] != (int(row[k] or 0) if k == "under_18" else row[k])]
    if not changed:
        return []
    fields = [g for k in changed for g in _GOVERNED_OF.get(k, (k,))]
    with deployment_setup.watchlist_change(store, actor, dep_id, amendment), store.transaction() as conn:
        db.update_entry(conn, entry_id, {k: new[k] for k in changed})
        audit.append(store, actor.username, "watchlist.entry_edited", "entry", entry_id,
                     {"record_number": spec.record_number, "changed": changed, "amendment": amendment.strip(),
                      "governed": governed.state(conn, "entry", entry_id, *fields)})
    return changed


def remove_entry(store: Store, actor: Actor, entry_id: int, reason: str, amendment: str = "") -> None:
    """Take an entry off the watchlist (its row stays, marked removed), with a reason."""
    actor.require(Permission.ENROL, store)
    row = _entry(store, entry_id)
    if row["removed_at"] is not None:
        raise GovernanceError(f"entry {row['record_number']} was already removed on {row['removed_at'][:10]}")
    if not reason.strip():
        raise GovernanceError("removing a watchlist entry needs a reason (it is logged)")
    dep_id = int(row["deployment_id"])
    deployments.ensure_writable(store, dep_id)
    with deployment_setup.watchlist_change(store, actor, dep_id, amendment), store.transaction() as conn:
        db.mark_removed(conn, entry_id, audit.utcnow())

        audit.append(store, actor.username, "watchlist.entry_removed", "entry", entry_id,
                     {"record_number": row["record_number"], "reason": reason.strip(), "amendment": amendment.strip(),
                      "governed": governed.state(conn, "entry", entry_id, "removed_at")})
