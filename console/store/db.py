"""The SQLite store: WAL, synchronous=FULL, explicit transactions, forward migrations.

A decision acknowledged on screen must survive a power cut, so every write goes through
``transaction()`` (BEGIN IMMEDIATE ... COMMIT) on a connection with synchronous=FULL.
One Store is one connection; give each thread its own (``Store.reopen()``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console import clock
from console.errors import StoreError
from console.store.migrations import LATEST, MIGRATIONS

DB_NAME = "console.sqlite3"
BUSY_TIMEOUT_S = 5.0


def utcnow() -> str:
    return clock.utcnow()


def _explain(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"the database {path} is locked by another program (waited {BUSY_TIMEOUT_S:.0f} s); nothing was written"
        )
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(f"the disk holding the database {path} is full or failing ({text}); nothing was written - "
                          "free space, and the console carries on")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{path} is not a usable console database: {text}")
    if "readonly" in text or "unable to open" in text:
        return StoreError(f"the database {path} cannot be written: {text}")
    return StoreError(f"database error in {path}: {text}")


class Store:
    """SQLite (the embedded default). PostgresStore (console/store/postgres.py) has the same face."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local_tx = threading.local()
        try:
            self.conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self.conn.row_factory = sqlite3.Row
            mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"the database {self.path} could not switch to WAL mode (got {mode})")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    # -- connection ---------------------------------------------------------------
    def reopen(self) -> Store:
        """A second connection to the same file, for another thread."""
        return Store(self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... COMMIT; rolled back whole on any error. Nests as one. The dialect gives
        ``_begin``, ``_commit``, ``_rollback``, ``_errors`` and ``_explain_error``."""
        if getattr(self._local_tx, "depth", 0):
            self._local_tx.depth += 1
            try:
                yield self.conn
            finally:
                self._local_tx.depth -= 1
            return
        self._begin()
        self._local_tx.depth = 1
        try:
            yield self.conn
            self._commit()
        except self._errors as exc:
            self._rollback()
            raise self._explain_error(exc) from exc
        except BaseException:
            self._rollback()
            raise
        finally:
            self._local_tx.depth = 0

    # -- the SQLite dialect of a transaction ------------------------------------------
    _errors = sqlite3.Error

    def _explain_error(self, exc: Exception) -> StoreError:
        return _explain(exc, self.path)

    def _begin(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    def _commit(self) -> None:
        self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        """Undo the open transaction; SQLite may have rolled it back already (a full disk does)."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction is gone either way; the original error is what matters

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- schema -------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _set_schema_version(self, conn, version: int) -> None:
        conn.execute(f"PRAGMA user_version={version}")

    def _ddl(self, statement: str) -> list[str]:
        return [statement]

    def next_audit_seq(self, conn) -> int:
        """The next audit sequence number, inside the caller's (serialising) transaction."""
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        return (row["seq"] if row else 0) + 1

    def notify(self, conn, channel: str, payload: str) -> None:
        """Wake other consoles (PostgreSQL); SQLite consoles poll the log instead."""

    def audit_high_water(self) -> int:
        """The highest sequence number ever given out (to notice entries cut from the end)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        return int(row["seq"]) if row else 0

    def migrate(self, target: int = LATEST) -> list[int]:
        """Apply every missing step up to ``target``, each in its own transaction."""
        current = self.schema_version
        if current > LATEST:
            raise StoreError(
                f"the database {self.path} has schema version {current}, newer than this console "
                f"understands ({LATEST}); use a newer console"
            )
        applied = []
        for version, description, sql in MIGRATIONS:
            if version <= current or version > target:
                continue
            with self.transaction() as conn:
                for statement in _statements(sql):
                    for translated in self._ddl(statement):
                        conn.execute(translated)
                conn.execute(
                    "INSERT INTO schema_migrations(version, description, applied_at) VALUES (?, ?, ?)",
                    (version, description, utcnow()),
                )
                self._set_schema_version(conn, version)
            applied.append(version)
        return applied


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their inner semicolons)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _migrated(store: Store, migrate: bool) -> Store:
    """The store brought up to the latest schema (closed again if that fails)."""
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def open_store_url(url: str, *, migrate: bool = True) -> Store:
    """A PostgreSQL store for ``postgresql://...`` URLs (several seats), else an SQLite data directory."""
    if url.startswith(("postgresql://", "postgres://")):
        from console.store.postgres import PostgresStore

        return _migrated(PostgresStore(url), migrate)
    return open_store(url, migrate=migrate)


def open_store(data_dir: Path | str, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the console database in ``data_dir``."""
    directory = Path(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {directory}: {exc}") from exc
    return _migrated(Store(directory / DB_NAME), migrate)


def open_location(location: str | Path | None, *, migrate: bool = True) -> Store:
    """A postgresql:// URL, or an SQLite data directory (None: the per-user default)."""
    if location is not None and str(location).startswith(("postgresql://", "postgres://")):
        return open_store_url(str(location), migrate=migrate)
    from console.paths import ensure_data_dir

    return open_store(ensure_data_dir(location), migrate=migrate)
