"""The SQLite store (the embedded default): WAL, synchronous=FULL, explicit transactions.

A decision acknowledged on screen must survive a power cut, so every write goes through
``transaction()`` (BEGIN IMMEDIATE ... COMMIT) on a connection with synchronous=FULL.
One store is one connection; give each thread its own (``reopen()``).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from console.errors import AlertRefused, StoreError
from console.store.base import Store, split_script
from console.store.migrations import Migration

DB_NAME = "console.sqlite3"
BUSY_TIMEOUT_S = 5.0


def explain(exc: BaseException, path: Path) -> StoreError:
    text = str(exc)
    if "alert refused" in text:
        return AlertRefused(text[text.index("alert refused"):])
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


class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._errors = sqlite3.Error
        # A read on another thread (a window's background job) and close() on shutdown take turns: a
        # connection closed while sqlite3 is inside one of its queries crashes the process.
        self._use = threading.Lock()
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
            # Purged images and embeddings are overwritten with zeros, not left in free pages.
            self.conn.execute("PRAGMA secure_delete=ON")
            self.conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    def reopen(self) -> SqliteStore:
        other = SqliteStore(self.path)
        other.after_audit_append = self.after_audit_append
        other.after_upgrade = self.after_upgrade
        return other

    def scrub_freed(self) -> bool:
        """Move the zeroed pages into the database file and empty the write-ahead log, whose older
        frames still hold what was purged. Another connection reading an old snapshot can hold this
        off: then it is done at the next purge (each start-up runs one) - False says so."""
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc
        return not busy

    def close(self) -> None:
        with self._use:
            self.conn.close()

    # -- transactions -------------------------------------------------------------------
    def _explain_error(self, exc: BaseException) -> StoreError:
        return explain(exc, self.path)

    def _begin(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    def _commit(self) -> None:
        self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        """Undo the open transaction; SQLite may have rolled it back already (a full disk does)."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction is gone either way; the original error is what matters

    def query(self, sql: str, params: tuple | list | dict = ()) -> list[sqlite3.Row]:
        try:
            with self._use:
                return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    # -- audit ------------------------------------------------------------------------------
    def next_audit_seq(self, conn) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        return (row["seq"] if row else 0) + 1

    def audit_high_water(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        return int(row["seq"]) if row else 0

    # -- schema --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _set_schema_version(self, conn, version: int) -> None:
        conn.execute(f"PRAGMA user_version={version}")

    def _statements_of(self, migration: Migration) -> list[str]:
        return split_script(migration.sql)
