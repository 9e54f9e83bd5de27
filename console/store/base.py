"""The store's contract: what every database under the console gives the repository and the
services, whichever it is (SQLite for one seat, PostgreSQL for a control room).

- ``transaction()``: BEGIN ... COMMIT, rolled back whole on any error, nesting as one; errors
  come out as one-sentence ``StoreError``s. Every write goes through it.
- ``query``/``one``: reads, rows that answer to a column name and to a position.
- ``reopen()``: a second connection for another thread (one connection, one thread).
- ``migrate()``: the forward-only steps of console/store/migrations.py, each in its own
  transaction.
- the audit log's needs: the next sequence number inside the (serialising) transaction, the
  highest number ever given out, and a wake-up for other seats (``notify``/``listen``).
A dialect fills in the hooks marked abstract; the rest is shared.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from console.clock import utcnow
from console.errors import StoreError
from console.store.migrations import LATEST, MIGRATIONS, Migration


class Store(ABC):
    dialect: str = ""
    path: Any  # where the data is, for messages (a file, or a redacted URL)
    conn: Any  # the connection: execute(sql, params) -> cursor with fetchone/fetchall/lastrowid/rowcount
    _errors: type[BaseException] | tuple[type[BaseException], ...] = ()
    # Run after a commit that appended to the audit log (the opener sets it: checkpoints.after_commit)
    after_audit_append: Callable[[Store], None] | None = None
    # Run after migrations were applied, with the version before and those applied (the opener sets
    # it: ledger.after_upgrade, which vouches for the rows an upgraded store already had)
    after_upgrade: Callable[[Store, int, list[int]], None] | None = None

    def __init__(self) -> None:
        self._local_tx = threading.local()

    # -- connection -----------------------------------------------------------------
    @abstractmethod
    def reopen(self) -> Store:
        """A second connection to the same data, for another thread."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN ... COMMIT; rolled back whole on any error. Nests as one."""
        if getattr(self._local_tx, "depth", 0):
            self._local_tx.depth += 1
            try:
                yield self.conn
            finally:
                self._local_tx.depth -= 1
            return
        self._begin()
        self._local_tx.depth = 1
        self._local_tx.after = {}
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
        pending, self._local_tx.after = self._local_tx.after, {}
        for fn in pending.values():
            fn()

    def after_commit(self, key: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the outermost transaction commits (at once outside one); dropped on
        rollback. One per ``key`` a transaction."""
        if not self.in_transaction:
            fn()
        else:
            self._local_tx.after.setdefault(key, fn)

    @property
    def in_transaction(self) -> bool:
        return bool(getattr(self._local_tx, "depth", 0))

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _explain_error(self, exc: BaseException) -> StoreError: ...

    # -- reads --------------------------------------------------------------------------
    @abstractmethod
    def query(self, sql: str, params: tuple | list | dict = ()) -> list: ...

    def one(self, sql: str, params: tuple | list | dict = ()):
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- the audit log's needs ---------------------------------------------------------------
    @abstractmethod
    def next_audit_seq(self, conn) -> int:
        """The next audit sequence number, inside the caller's transaction, which it serialises."""

    @abstractmethod
    def audit_high_water(self) -> int:
        """The highest sequence number ever given out (to notice entries cut from the end)."""

    def notify(self, conn, channel: str, payload: str) -> None:  # noqa: B027 - a no-op unless the database can wake
        """Wake the other seats at commit (PostgreSQL); SQLite seats poll the log instead."""

    def listen(self, channel: str) -> Callable[[float], None] | None:
        """A wait(timeout) that ends early when another seat notifies; None where seats poll."""
        return None

    def scrub_freed(self) -> bool:  # noqa: B027 - PostgreSQL: VACUUM is the administrator's (docs/security.md)
        """After a purge: leave no copy of what was purged in the database's files. True when done."""
        return True

    # -- schema ---------------------------------------------------------------------------
    @property
    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def _set_schema_version(self, conn, version: int) -> None: ...

    @abstractmethod
    def _statements_of(self, migration: Migration) -> list[str]:
        """The statements that carry out ``migration`` on this database."""

    def migrate(self, target: int = LATEST) -> list[int]:
        """Apply every missing step up to ``target``, each in its own transaction."""
        current = self.schema_version
        if current > LATEST:
            raise StoreError(
                f"the database {self.path} has schema version {current}, newer than this console "
                f"understands ({LATEST}); use a newer console"
            )
        applied = []
        for migration in MIGRATIONS:
            if migration.version <= current or migration.version > target:
                continue
            with self.transaction() as conn:
                for statement in self._statements_of(migration):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations(version, description, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.description, utcnow()),
                )
                self._set_schema_version(conn, migration.version)
            applied.append(migration.version)
        if applied and self.after_upgrade is not None:
            self.after_upgrade(self, current, applied)
        return applied


def split_script(script: str) -> list[str]:
    """A migration script as statements (triggers keep their inner semicolons)."""
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
