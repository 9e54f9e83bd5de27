"""One opener for every place a store can be: an SQLite data directory (one seat) or a
``postgresql://`` URL (a control room), brought up to the latest schema on the way."""

from __future__ import annotations

from pathlib import Path

from console.errors import StoreError
from console.store.base import Store
from console.store.sqlite import DB_NAME, SqliteStore

URL_PREFIXES = ("postgresql://", "postgres://")


def is_url(location: str | Path | None) -> bool:
    return location is not None and str(location).startswith(URL_PREFIXES)


def _migrated(store: Store, migrate: bool) -> Store:
    """The store brought up to the latest schema (closed again if that fails), signing checkpoints
    of its audit log as it grows."""
    from console.store import checkpoints, ledger

    store.after_audit_append = checkpoints.after_commit
    store.after_upgrade = ledger.after_upgrade
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def open_store(data_dir: Path | str, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the SQLite console database in ``data_dir``."""
    directory = Path(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {directory}: {exc}") from exc
    return _migrated(SqliteStore(directory / DB_NAME), migrate)


def open_location(location: str | Path | None, *, migrate: bool = True) -> Store:
    """A postgresql:// URL, or an SQLite data directory (None: the per-user default)."""
    if is_url(location):
        from console.store.postgres import PostgresStore  # only control rooms need psycopg

        return _migrated(PostgresStore(str(location)), migrate)
    from console.paths import ensure_data_dir

    return open_store(ensure_data_dir(location), migrate=migrate)
