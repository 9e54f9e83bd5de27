"""Setting a deployment up without code: its pre-deployment checklist, its frozen watchlist, and
the deployments a seat may open.

The checklist (signage in place, watchlist reviewed, DPIA current) is ticked item by item by a
supervisor, each tick logged; ``deployments.authorise`` refuses while any item is open. At
authorisation the watchlist is frozen: a snapshot hash over every entry's id, governance fields
and photo hashes is stored with the deployment, and every alert raised under it records that hash
(console/store/alerts.py). Afterwards the watchlist changes only inside ``watchlist_change`` called
as a supervisor's amendment with a reason, which takes a new snapshot and logs the old and new hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from console.errors import ConsoleError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, governed, ledger
from console.store import deployments as db

# item -> what the supervisor confirms by ticking it
CHECKLIST: dict[str, str] = {
    "signage": "Signage in place: the public is told, at the place, that live facial recognition is in use",
    "watchlist_reviewed": "Watchlist reviewed: every entry is necessary, proportionate and within its review date",
    "dpia_current": "DPIA current: the data protection impact assessment covers this place, window and watchlist",
}
OPEN_STATES = ("authorised", "active", "stopped")


class SetupError(ConsoleError):
    """The deployment's set-up does not allow this (an open checklist, a frozen watchlist)."""


def _dep(store: Store, deployment_id: int):
    row = db.snapshot_state(store, deployment_id)
    if row is None:
        raise SetupError(f"deployment {deployment_id} does not exist")
    return row


def checklist(store: Store, deployment_id: int) -> list[dict]:
    """Each item, with who ticked it and when (None: still open)."""
    rows = {r["item"]: r for r in db.checks_ticked(store, deployment_id)}
    return [{"item": item, "text": text, "ticked_by": rows[item]["username"] if item in rows else None,
             "ticked_at": rows[item]["ticked_at"] if item in rows else None,
             "note": rows[item]["note"] if item in rows else ""} for item, text in CHECKLIST.items()]


def open_items(store: Store, deployment_id: int) -> list[str]:
    return [c["item"] for c in checklist(store, deployment_id) if c["ticked_by"] is None]


def tick(store: Store, actor: Actor, deployment_id: int, item: str, note: str = "") -> None:
    """A supervisor confirms one item of a draft's checklist (logged; ticking twice changes nothing)."""
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    if item not in CHECKLIST:
        raise SetupError(f"{item!r} is not on the pre-deployment checklist: {', '.join(CHECKLIST)}")
    dep = _dep(store, deployment_id)
    if dep["state"] != "draft":
        raise SetupError(f"deployment {dep['name']!r} is {dep['state']}: its checklist was closed at authorisation")
    if item not in open_items(store, deployment_id):
        return
    with store.transaction() as conn:
        db.tick_check(conn, deployment_id, item, actor.user_id, audit.utcnow(), note.strip())
        audit.append(store, actor.username, "deployment.check_ticked", "deployment", deployment_id,
                     {"item": item, "confirms": CHECKLIST[item], "note": note.strip(), "user_id": actor.user_id,
                      "rows": ledger.of(conn, "deployment_checks", deployment_id=deployment_id, item=item)})


def require_complete(store: Store, deployment_id: int) -> None:
    missing = open_items(store, deployment_id)
    if missing:
        raise SetupError("the pre-deployment checklist is not complete; a supervisor must first tick: "
                         + "; ".join(CHECKLIST[m].split(":")[0] for m in missing))


def snapshot_hash(conn, deployment_id: int) -> str:
    """SHA-256 over the watchlist as it stands: each entry not removed (id and every governance
    field) with the hashes of its photos still held, in id order."""
    entries = db.snapshot_entries(conn, deployment_id)
    items = []
    for e in entries:
        photos = sorted(r["image_sha256"] for r in db.held_photo_hashes(conn, e["id"]))
        items.append({**{k: e[k] for k in e.keys()}, "under_18": int(e["under_18"] or 0), "photos": photos})
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def freeze(conn, deployment_id: int) -> str:
    """At authorisation (inside its transaction): store the snapshot's hash with the deployment."""
    digest = snapshot_hash(conn, deployment_id)
    db.set_watchlist_sha256(conn, deployment_id, digest)
    return digest


def frozen(dep) -> bool:
    return dep["watchlist_sha256"] is not None and dep["state"] != "draft"


@contextmanager
def watchlist_change(store: Store, actor: Actor, deployment_id: int, amendment: str = "") -> Iterator[None]:
    """Wrap every change to a deployment's watchlist. A draft's changes just happen; a frozen
    watchlist is refused unless this is a supervisor's amendment with a reason, which takes a new
    snapshot in the same transaction and logs the old and the new hash."""
    dep = _dep(store, deployment_id)
    if not frozen(dep):
        yield
        return
    if not amendment.strip():
        raise SetupError(f"the watchlist of deployment {dep['name']!r} was frozen when it was authorised "
                         f"(snapshot {dep['watchlist_sha256'][:12]}...): it changes only by a supervisor's logged "
                         "amendment, with a reason")
    if not actor.may(Permission.AUTHORISE_DEPLOYMENT):
        actor.require(Permission.AUTHORISE_DEPLOYMENT, store)  # refuses, and logs the refusal
    with store.transaction() as conn:
        yield
        new = snapshot_hash(conn, deployment_id)
        db.set_watchlist_sha256(conn, deployment_id, new)
        audit.append(store, actor.username, "deployment.watchlist_amended", "deployment", deployment_id,
                     {"reason": amendment.strip(), "old_sha256": dep["watchlist_sha256"], "new_sha256": new,
                      "governed": governed.state(conn, "deployment", deployment_id, "watchlist_sha256")})


def seat_choices(store: Store, actor: Actor) -> list[dict]:
    """The deployments a seat may open now (authorised, running or stopped), newest first, for the
    choice after sign-in. Reading them needs only a signed-in user: a seat must know where it is."""
    from console import clock

    stamp = clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    return [dict(r) for r in db.seat_choices(store, stamp)]


