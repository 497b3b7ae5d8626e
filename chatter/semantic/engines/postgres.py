"""PostgreSQL databases for user data: read-only, with a server-side statement timeout, capped.

Every session starts with ``default_transaction_read_only = on`` and ``statement_timeout`` set
from the query time limit, and every statement runs in its own ``BEGIN READ ONLY`` transaction,
rolled back after: nothing chatter sends can write, and the server itself stops a statement at
the limit. Values are bound by psycopg (``%(name)s``), never written into the SQL. The password
stays inside the connection string: messages and logs name the database by its identity.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
import psycopg.errors
from sqlglot import exp

from chatter.errors import (
    DatabaseError,
    DatabaseNotFoundError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.logs import get_logger
from chatter.semantic import deadlines
from chatter.semantic.engines.base import RawResult, first_line
from chatter.semantic.engines.locator import DatabaseUrl, scrub
from chatter.semantic.engines.postgres_dialect import NAME as POSTGRES_DIALECT
from chatter.semantic.engines.rows import column_array, plain_row

log = get_logger(__name__)

#: Grace past the server's statement_timeout before the client cancels itself (a server that
#: stopped answering still gives the caller back its thread).
CLIENT_GRACE_S = 2.0
#: How long a data version is trusted before asking the server again (one round trip per
#: second at most, however many queries a run sends).
VERSION_TTL_S = 1.0

_VERSION_SQL = """
SELECT coalesce(string_agg(
    concat_ws(':', c.oid, c.relfilenode, s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
              s.n_live_tup, s.last_analyze, s.last_autoanalyze), ',' ORDER BY c.oid), '')
FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
"""

_SCHEMA_SQL = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
"""


class DatabaseLoginError(DatabaseError):
    """The server refused the login (user, password or access rules)."""

    code = "database_login_refused"


class DatabaseUnreachableError(DatabaseError):
    """No database server answers at the host and port the URL names."""

    code = "database_unreachable"


class PostgresEngine:
    """One PostgreSQL database; each query runs on a pooled connection of its own."""

    dialect = POSTGRES_DIALECT

    def __init__(self, url: DatabaseUrl, *, timeout_s: float = 30.0, max_idle: int = 4) -> None:
        self.url = url
        self.identity = url.identity
        self.timeout_s = timeout_s
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._active: dict[int, set[psycopg.Connection[Any]]] = {}  # thread -> connections
        self._version: tuple[float, str] | None = None
        self._closed = False
        self._idle.append(self._connect())  # fail now, naming what is wrong, not mid-run

    # ---- connections ---------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        timeout_ms = max(1, round(self.timeout_s * 1000))
        try:
            conn = psycopg.connect(
                self.url.conninfo,
                autocommit=False,
                connect_timeout=10,
                application_name="chatter",
                options=(
                    "-c default_transaction_read_only=on "
                    f"-c statement_timeout={timeout_ms} "
                    "-c cursor_tuple_fraction=1.0"
                ),
            )
        except psycopg.OperationalError as err:
            raise connection_error(self.url, str(err)) from None
        except psycopg.ProgrammingError:  # libpq could not parse the URL
            raise DatabaseError(
                f"The database URL {self.identity} is not a valid PostgreSQL URL "
                "(expected postgresql://user@host:port/dbname)."
            ) from None
        conn.read_only = True  # each transaction opens with BEGIN READ ONLY
        return conn

    def _acquire(self) -> psycopg.Connection[Any]:
        with self._lock:
            if self._closed:
                raise QueryExecutionError(f"The connection to {self.identity} is closed.")
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    break
            else:
                conn = None
        conn = conn or self._connect()
        with self._lock:
            self._active.setdefault(threading.get_ident(), set()).add(conn)
        return conn

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:  # a thread with no query left has no entry: threads come and go
            ident = threading.get_ident()
            conns = self._active.get(ident, set())
            conns.discard(conn)
            if not conns:
                self._active.pop(ident, None)
            keep = not self._closed and len(self._idle) < self.max_idle
        try:
            conn.rollback()  # end the read-only transaction (and any failed one)
        except psycopg.Error:
            keep = False
        if keep and not conn.broken:
            with self._lock:
                self._idle.append(conn)
        else:
            conn.close()

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own, cancelled by the client too if the server's timeout did
        not fire; PostgreSQL errors become ours."""
        conn = self._acquire()
        timer = deadlines.after(self.timeout_s + CLIENT_GRACE_S, conn.cancel_safe)
        try:
            yield conn
        except psycopg.errors.QueryCanceled:
            raise QueryTimeoutError(
                f"Query ran longer than {self.timeout_s:g} s and was stopped "
                "(raise CHATTER_QUERY_TIMEOUT_S, or narrow the question with filters)."
            ) from None
        except psycopg.errors.ReadOnlySqlTransaction as err:
            raise QueryExecutionError(
                f"Refused: {self.identity} is opened read-only ({first_line(str(err))})."
            ) from None
        except psycopg.Error as err:
            raise QueryExecutionError(
                "PostgreSQL could not run the query: " + first_line(scrub(str(err), self.url))
            ) from None
        finally:
            timer.cancel()
            self._release(conn)

    def interrupt(self, threads: set[int] | None = None) -> int:
        """Cancel the queries running on ``threads`` (all when None); returns how many."""
        with self._lock:
            conns = [
                c for t, cs in self._active.items() if threads is None or t in threads for c in cs
            ]
        for conn in conns:
            conn.cancel_safe()
        return len(conns)

    def busy(self) -> bool:
        with self._lock:
            return any(self._active.values())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> PostgresEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what the warehouse asks ---------------------------------------------------------

    @property
    def version(self) -> str:
        """The tables' write counters, storage files and analyze times in the current
        schema: any committed insert, update, delete, truncate or reload changes it. The
        statistics reach the views within about a second of a commit (PostgreSQL flushes
        them in batches), so a read just after a write may still see the old version; the
        cache's TTL bounds how long. Memoised for VERSION_TTL_S."""
        now = time.monotonic()
        memo = self._version
        if memo is not None and now - memo[0] < VERSION_TTL_S:
            return memo[1]
        with self._session() as conn:
            row = conn.execute(_VERSION_SQL, binary=True).fetchone()
        text = str(row[0]) if row else ""
        version = "pg:" + hashlib.sha256(text.encode()).hexdigest()[:32]
        self._version = (now, version)
        return version

    def render(self, ast: exp.Expr) -> str:
        """PostgreSQL SQL with psycopg's ``%(name)s`` placeholders; a literal ``%`` elsewhere
        (a LIKE pattern, the modulo operator) is written so psycopg leaves it be; the few
        functions older servers lack are written with ones they have."""

        def escape(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Literal) and node.is_string and "%" in node.this:
                return exp.Literal.string(node.this.replace("%", "%%"))
            if isinstance(node, exp.Identifier) and "%" in node.this:
                return exp.Identifier(this=node.this.replace("%", "%%"), quoted=True)
            if isinstance(node, exp.Mod):
                return exp.Anonymous(this="MOD", expressions=[node.this, node.expression])
            return node

        return ast.transform(escape).sql(self.dialect)  # transform copies: ``ast`` stays

    def schema(self) -> dict[str, dict[str, str]]:
        """Table -> column -> type, for the tables of the current schema."""
        out: dict[str, dict[str, str]] = {}
        for table, column, kind in self.execute(_SCHEMA_SQL).rows:
            out.setdefault(table, {})[column] = kind
        return out

    def execute(
        self, sql: str, params: dict[str, Any] | None = None, *, row_cap: int | None = None
    ) -> RawResult:
        """Run one statement; the server stops it after ``timeout_s``; keep at most
        ``row_cap`` rows (read from a server-side cursor, so the rest never cross)."""
        started = time.perf_counter()
        with self._session() as conn:
            if row_cap is None:
                cursor = conn.execute(sql, params or {}, binary=True)
                columns = tuple(d.name for d in cursor.description or ())
                rows = cursor.fetchall() if cursor.description else []
            else:
                with conn.cursor(name="chatter_capped") as named:
                    named.execute(sql, params or {})
                    columns = tuple(d.name for d in named.description or ())
                    rows = named.fetchmany(row_cap + 1)
        truncated = row_cap is not None and len(rows) > row_cap
        if truncated:
            rows = rows[:row_cap]
        duration_ms = (time.perf_counter() - started) * 1000
        log.debug("query_executed", rows=len(rows), truncated=truncated, ms=round(duration_ms, 2))
        return RawResult(columns, [plain_row(r) for r in rows], truncated, duration_ms)

    def fetch_arrays(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Run one statement and return its columns as numpy arrays of the dtypes DuckDB's
        ``fetchnumpy`` gives (float64, int64, bool, datetime64[us], object)."""
        with self._session() as conn:
            cursor = conn.execute(sql, params or {}, binary=True)
            names = [d.name for d in cursor.description or ()]
            rows = cursor.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return {name: column_array(values) for name, values in zip(names, columns, strict=True)}


def writable_connection(url: DatabaseUrl) -> psycopg.Connection[Any]:
    """A read-write connection, for loading data (``chatter demo --out postgresql://``),
    never for answering questions; connection failures as ``connection_error`` names them."""
    try:
        return psycopg.connect(url.conninfo, connect_timeout=10, application_name="chatter")
    except psycopg.OperationalError as err:
        raise connection_error(url, str(err)) from None
    except psycopg.ProgrammingError:
        raise DatabaseError(
            f"The database URL {url.identity} is not a valid PostgreSQL URL "
            "(expected postgresql://user@host:port/dbname)."
        ) from None


def _where(url: DatabaseUrl) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.host or 'localhost'}{port}"


def connection_error(url: DatabaseUrl, text: str) -> DatabaseError:
    """A libpq connection failure as a chatter error naming the part at fault: the database,
    the login or the server (never the password, which libpq does not quote, and which
    ``scrub`` removes besides)."""
    reason = scrub(_server_reason(text), url)
    lowered = reason.lower()
    user = url.user or "(the default user)"
    if "database" in lowered and "does not exist" in lowered:
        return DatabaseNotFoundError(
            f"Database {url.dbname!r} does not exist on the PostgreSQL server at "
            f"{_where(url)} ({url.identity})."
        )
    if any(
        words in lowered
        for words in ("authentication", "role", "password", "pg_hba.conf", "permission")
    ):
        return DatabaseLoginError(
            f"The PostgreSQL server at {_where(url)} refused the login of user {user!r}: {reason}."
        )
    return DatabaseUnreachableError(
        f"Cannot connect to the PostgreSQL server at {_where(url)} ({url.identity}): {reason}."
    )


def _server_reason(text: str) -> str:
    """The server's own words from a libpq connection error (after ``FATAL:``), else its
    last line: libpq prefixes host and port, which the caller names itself."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "FATAL:" in line:
            return line.split("FATAL:", 1)[1].strip()
    last = lines[-1] if lines else text
    return last.split(" failed: ", 1)[-1].strip() if " failed: " in last else last
