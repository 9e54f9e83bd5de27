"""The set-up's reads and writes of watchlists (console/services/setup/): which watchlist, its
entries as the screens list them, edits and removals, and what enrolment checks.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``), whose audit entry the caller appends in the same transaction.
The statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike.
(Creating a watchlist, an entry or an entry's photo, with its audit entry: console/store/repo.py.)
"""

from __future__ import annotations

from console.store.base import Store

# The columns of an entry a change may set (its governance fields).
ENTRY_FIELDS = (
    "record_number",
    "subject_name",
    "category",
    "legal_basis",
    "reason",
    "image_source",
    "image_date",
    "review_date",
    "under_18",
    "under_18_justification",
)


def deployment_of_watchlist(store: Store, watchlist_id: int):
    """The watchlist's row with its ``deployment_id``; None if there is none."""
    return store.one("SELECT deployment_id FROM watchlists WHERE id = ?", (watchlist_id,))


def first_watchlist(store: Store, deployment_id: int):
    """The deployment's first watchlist (``id``); None if it has none."""
    return store.one("SELECT id FROM watchlists WHERE deployment_id = ? AND id NOT IN (SELECT watchlist_id FROM"
                     " known_answer_watchlists) ORDER BY id LIMIT 1", (deployment_id,))


def active_entry_count(store: Store, deployment_id: int) -> int:
    """How many entries of the deployment's watchlists are not removed."""
    return store.one(
        "SELECT COUNT(*) AS n FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id"
        " WHERE w.deployment_id = ? AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists) AND e.removed_at IS NULL",
        (deployment_id,),
    )["n"]


def entries_checked(store: Store, deployment_id: int) -> list:
    """Each entry of the deployment, in order, with its governance fields and photos held."""
    return store.query(
        "SELECT e.record_number, e.subject_name, e.category, e.legal_basis, e.image_source, e.image_date,"
        " e.review_date, e.under_18, (SELECT COUNT(*) FROM entry_images i WHERE i.entry_id = e.id"
        " AND i.purged_at IS NULL) AS photos FROM watchlist_entries e JOIN watchlists w"
        " ON w.id = e.watchlist_id WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists) ORDER BY e.id",
        (deployment_id,),
    )


def entries_listed(store: Store, deployment_id: int, removed: bool = False) -> list:
    """Each entry of the deployment (``removed``: those removed too), in order, with photos held."""
    return store.query(
        "SELECT e.id, e.record_number, e.subject_name, e.category, e.legal_basis, e.reason, e.image_source,"
        " e.image_date, e.review_date, e.under_18, e.under_18_justification, e.removed_at,"
        " (SELECT COUNT(*) FROM entry_images i WHERE i.entry_id = e.id AND i.purged_at IS NULL) AS photos"
        " FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists)"
        + ("" if removed else " AND e.removed_at IS NULL")
        + " ORDER BY e.id",
        (deployment_id,),
    )


def entry_with_deployment(store: Store, entry_id: int):
    """Every column of the entry and its watchlist's ``deployment_id``; None if there is none."""
    return store.one(
        "SELECT e.*, w.deployment_id FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id WHERE e.id = ?",
        (entry_id,),
    )


def entry_to_enrol(store: Store, entry_id: int):
    """id, record_number and deployment_id of the entry; None if there is none."""
    return store.one(
        "SELECT e.id, e.record_number, w.deployment_id FROM watchlist_entries e"
        " JOIN watchlists w ON w.id = e.watchlist_id WHERE e.id = ?",
        (entry_id,),
    )


def record_number_of(store: Store, entry_id: int):
    return store.one("SELECT record_number FROM watchlist_entries WHERE id = ?", (entry_id,))


def first_photo(store: Store, entry_id: int):
    """The entry's first photo still held (``image_jpeg``); None if none."""
    return store.one(
        "SELECT image_jpeg FROM entry_images WHERE entry_id = ? AND purged_at IS NULL AND image_jpeg"
        " IS NOT NULL ORDER BY id LIMIT 1",
        (entry_id,),
    )


def update_entry(conn, entry_id: int, values: dict) -> None:
    """Set these governance fields of the entry (names from ENTRY_FIELDS only)."""
    unknown = set(values) - set(ENTRY_FIELDS)
    if unknown:
        raise ValueError(f"not a watchlist entry field: {sorted(unknown)}")
    conn.execute(
        "UPDATE watchlist_entries SET " + ", ".join(f"{k} = ?" for k in values) + " WHERE id = ?", (*values.values(), entry_id)
    )


def mark_removed(conn, entry_id: int, at: str) -> None:
    conn.execute("UPDATE watchlist_entries SET removed_at = ? WHERE id = ?", (at, entry_id))


def searchable_photos(store: Store, deployment_id: int, model_id: str) -> int:
    """Watchlist photos a face is searched against (active, not purged) for this model."""
    row = store.one(
        "SELECT COUNT(*) AS n FROM entry_images i JOIN watchlist_entries e ON e.id = i.entry_id"
        " JOIN watchlists w ON w.id = e.watchlist_id WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists) AND i.model_id = ?"
        " AND e.removed_at IS NULL AND w.purged_at IS NULL AND i.embedding IS NOT NULL AND i.purged_at IS NULL",
        (deployment_id, model_id),
    )
    return int(row["n"])


def subject_names(store: Store, deployment_id: int) -> dict[int, str]:
    """{entry id: subject name} of every entry of the deployment's watchlists."""
    rows = store.query(
        "SELECT e.id, e.subject_name FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id"
        " WHERE w.deployment_id = ? AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists)",
        (deployment_id,),
    )
    return {int(r["id"]): r["subject_name"] for r in rows}
