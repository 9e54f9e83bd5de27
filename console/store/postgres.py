"""The same store on PostgreSQL, for a control room with several seats.

Same schema (the SQLite migrations, translated statement by statement), same repository code:
a thin connection wrapper turns ``?`` placeholders into ``%s``, gives rows that answer to both
``row["name"]`` and ``row[0]``, and returns the new id of an INSERT as ``lastrowid``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from console.errors import AlertRefused, StoreError
from console.redaction import redact_url, scrub
from console.store.base import Store, split_script
from console.store.migrations import LATEST, Migration

# Tables whose INSERTs give back a new id (audit_log's key is seq).
_ID_COLUMN = {"audit_log": "seq", "known_answer_alerts": "alert_id", "known_answer_watchlists": "watchlist_id",
              "camera_leases": "camera_id", "alert_keys": "alert_id"}
_NO_ID = {"schema_migrations", "settings", "alert_candidates", "face_stats", "worker_heartbeats", "worker_pool",
          "deployment_checks", "camera_credentials", "alert_contexts"}
# A link that dies without a word (a cable, a switch, a host that froze) is noticed in seconds, not
# after the kernel's ~15 minutes of retransmissions: unacknowledged data gives up after 5 s, an idle
# session is probed after 5 s and given up after two missed probes, and a connect waits 5 s at most.
LINK_WATCH = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
              "keepalives_count": 2, "tcp_user_timeout": 5000}
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_TRIGGER = re.compile(r"CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)\s+BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END;?",
                      re.IGNORECASE | re.DOTALL)


def _placeholders(sql: str) -> str:
    """'?' -> '%s' outside string literals; a literal '%' doubled for psycopg."""
    out, quoted = [], False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
            out.append(ch)
        elif ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


def translate_ddl(statement: str) -> list[str]:
    """One SQLite DDL statement as PostgreSQL statements."""
    m = _TRIGGER.fullmatch(statement.strip())
    if m:
        name, when, table, message = m.groups()
        return [f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION orc_refuse('{message}')"]
    s = re.sub(r"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY", statement)
    s = re.sub(r"\bINTEGER PRIMARY KEY\b", "BIGSERIAL PRIMARY KEY", s)
    s = re.sub(r"\bBLOB\b", "BYTEA", s)
    s = re.sub(r"\bREAL\b", "DOUBLE PRECISION", s)
    s = re.sub(r"\bINTEGER\b", "BIGINT", s)
    return [s]


class Row(dict):
    """A row that answers to a column name and to a position, like sqlite3.Row."""

    def __init__(self, names: list[str], values) -> None:
        super().__init__(zip(names, values, strict=True))
        self._values = tuple(values)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._values[key]
        return super().__getitem__(key)

    def keys(self):
        return list(super().keys())


def _plain(v):
    """Values as SQLite gives them: bytes for BYTEA, int or float for NUMERIC (SUM of BIGINT)."""
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def _row_factory(cursor):
    names = [d.name for d in (cursor.description or [])]
    return lambda values: Row(names, [_plain(v) for v in values])


class _Cursor:
    def __init__(self, cursor, lastrowid=None) -> None:
        self._c = cursor
        self.lastrowid = lastrowid
        self.rowcount = cursor.rowcount

    def fetchone(self):
        return self._c.fetchone() if self._c.description else None

    def fetchall(self):
        return self._c.fetchall() if self._c.description else []

    def __iter__(self):
        return iter(self.fetchall())


class _Connection:
    """The part of sqlite3.Connection the store and its tests use."""

    def __init__(self, raw) -> None:
        self.raw = raw

    def execute(self, sql: str, params=()):
        m = _INSERT.match(sql)
        returning = None
        if m and "RETURNING" not in sql.upper() and m.group(1).lower() not in _NO_ID:
            returning = _ID_COLUMN.get(m.group(1).lower(), "id")
            sql = f"{sql.rstrip().rstrip(';')} RETURNING {returning}"
        cur = self.raw.cursor(row_factory=_row_factory)
        cur.execute(_placeholders(sql), tuple(params) if not isinstance(params, dict) else params)
        lastrowid = None
        if returning:
            row = cur.fetchone()
            lastrowid = row[0] if row else None
        return _Cursor(cur, lastrowid)

    def executemany(self, sql: str, rows):
        cur = self.raw.cursor()
        cur.executemany(_placeholders(sql), [tuple(r) for r in rows])
        return _Cursor(cur)

    def close(self) -> None:
        self.raw.close()


def _explain(exc: Exception, url: str) -> StoreError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = scrub(text, url)  # the driver's words may quote the connection string
    if "alert refused" in text:
        return AlertRefused(text[text.index("alert refused"):])
    if "No space left" in text or "could not extend" in text:
        return StoreError(f"the database server {redact_url(url)} has run out of disk space ({text}); nothing was written")
    if "terminating connection" in text or "server closed the connection" in text or "connection is closed" in text:
        return StoreError(f"the connection to {redact_url(url)} was lost ({text}); the console reconnects at the next step"
                          " - if this was a decision, check the alert before recording it again")
    return StoreError(f"database error on {redact_url(url)}: {text}")


class PostgresStore(Store):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg

        super().__init__()
        self.url = url  # with its password, to reconnect; shown only as ``path``
        self.path = redact_url(url)
        self._psycopg = psycopg
        self._errors = psycopg.Error
        self.reconnects = 0
        self.bound_session = ""  # the sign-in this connection works under (repo.bind_session), kept on reconnects
        self.conn = _Connection(self._connect())

    def _connect(self):
        try:
            raw = self._psycopg.connect(self.url, autocommit=True, **LINK_WATCH)
            if self.bound_session:  # a new session works under the same sign-in as the one it replaces
                raw.execute("SELECT set_config('orc.session', %s, false)", (self.bound_session,))
            return raw
        except self._psycopg.Error as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot connect to {self.path}: {scrub(text, self.url)}") from exc

    def _lost(self) -> bool:
        return self.conn.raw.closed or self.conn.raw.broken

    def _reconnect(self) -> None:
        """A new session after the old one was cut (server restart, administrator, network)."""
        try:
            self.conn.raw.close()
        except self._psycopg.Error:
            pass
        self.conn = _Connection(self._connect())
        self.reconnects += 1

    def _begin(self) -> None:
        """BEGIN, on a fresh session if the old one is gone: nothing had been sent, so trying
        once more is safe."""
        for attempt in (1, 2):
            if self._lost():
                self._reconnect()
            try:
                self.conn.raw.execute("BEGIN")
                return
            except self._psycopg.OperationalError as exc:
                if attempt == 2 or not self._lost():
                    raise _explain(exc, self.url) from exc
            except self._psycopg.Error as exc:
                raise _explain(exc, self.url) from exc

    def _commit(self) -> None:
        self.conn.raw.execute("COMMIT")

    def _explain_error(self, exc: Exception) -> StoreError:
        return _explain(exc, self.url)

    def _rollback(self) -> None:
        if not self._lost():
            try:
                self.conn.raw.execute("ROLLBACK")
            except self._psycopg.Error:
                pass  # the original error is what the caller needs

    def reopen(self) -> PostgresStore:
        other = PostgresStore(self.url)
        other.after_audit_append = self.after_audit_append
        other.after_upgrade = self.after_upgrade
        return other

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params=()):
        for attempt in (1, 2):  # a read may be asked again on a new session
            if self._lost() and not getattr(self._local_tx, "depth", 0):
                self._reconnect()
            try:
                return self.conn.execute(sql, params).fetchall()
            except self._psycopg.OperationalError as exc:
                if attempt == 2 or not self._lost() or getattr(self._local_tx, "depth", 0):
                    raise _explain(exc, self.url) from exc
            except self._psycopg.Error as exc:
                raise _explain(exc, self.url) from exc
        raise AssertionError("unreachable")

    @property
    def schema_version(self) -> int:
        exists = self.conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()["t"]
        if not exists:
            return 0
        return int(self.conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").fetchone()["v"])

    def _set_schema_version(self, conn, version: int) -> None:
        pass  # schema_migrations is the record on PostgreSQL

    def migrate(self, target: int | None = None) -> list[int]:
        """Only the schema's owner migrates; a seat (console/store/pg_roles.py) finds the schema current,
        or is told to have the owner migrate it."""
        current = self.schema_version
        if current > LATEST:
            return super().migrate()  # refused there, with the reason
        if current >= (LATEST if target is None else target):
            return []
        owner = self.conn.raw.execute(
            "SELECT pg_get_userbyid(relowner) = current_user OR (SELECT rolsuper FROM pg_roles WHERE rolname ="
            " current_user) FROM pg_class WHERE relname = 'schema_migrations'").fetchone()
        if owner is not None and not owner[0]:
            raise StoreError(f"the database {self.path} needs migrating to schema version {LATEST}, and this role may "
                             "not: the schema's owner migrates it (open it once with the owner's URL)")
        self.conn.raw.execute(
            "CREATE OR REPLACE FUNCTION orc_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$")
        return super().migrate() if target is None else super().migrate(target)

    def _statements_of(self, migration: Migration) -> list[str]:
        if migration.postgres is not None:
            return list(migration.postgres)
        return [pg for statement in split_script(migration.sql) for pg in translate_ddl(statement)]

    def next_audit_seq(self, conn) -> int:
        """The next number under the appenders' lock, and the high water mark moved with it - both in the
        caller's transaction, so a rollback (or a killed seat) gives back the number: no gap, no false
        "removed from the end"."""
        # One appender at a time: the chain must stay a line, not a tree. The lock is the high water
        # mark's row (a seat may update it; it may not lock the log itself, which it may only append to).
        conn.execute("SELECT seq FROM audit_high_water WHERE id = 1 FOR UPDATE")
        seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM audit_log").fetchone()["s"])
        mark = conn.execute("SELECT seq FROM audit_high_water WHERE id = 1").fetchone()
        seq = max(seq, int(mark["seq"]) + 1) if mark else seq  # never reuse a number once committed
        conn.execute("UPDATE audit_high_water SET seq = ? WHERE id = 1", (seq,))
        return seq

    def notify(self, conn, channel: str, payload: str) -> None:
        conn.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def listen(self, channel: str):
        """Start listening on this connection; returns wait(timeout) that ends early on a notification."""
        self.conn.raw.execute(f"LISTEN {channel}")

        def wait(timeout: float) -> None:
            for _ in self.conn.raw.notifies(timeout=timeout, stop_after=1):
                pass

        return wait

    def audit_high_water(self) -> int:
        row = self.conn.execute("SELECT seq FROM audit_high_water WHERE id = 1").fetchone()
        return int(row["seq"]) if row else 0
