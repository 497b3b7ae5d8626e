"""DuckDB databases (a file) for user data: read-only, interruptible, capped.

Engine-specific behaviour (DuckDB errors, configuration, interrupts) stays in this module, so the
rest of chatter sees only chatter errors and plain rows.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlglot import exp

from chatter.errors import (
    DatabaseLockedError,
    DatabaseNotFoundError,
    NotADuckDBFileError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.logs import get_logger
from chatter.semantic import deadlines
from chatter.semantic.engines.base import RawResult, check_schema
from chatter.semantic.engines.base import first_line as _first_line

log = get_logger(__name__)


def data_version(path: Path) -> str:
    """Changes whenever the database's content may have changed (file and WAL size and mtime)."""
    parts = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def spill_directory() -> str:
    """Where DuckDB spills: the system temp dir, not beside the (maybe read-only) database,
    and not under CHATTER_HOME, so the configuration is the same for every data directory."""
    return str(Path(tempfile.gettempdir()) / f"chatter-duckdb-{os.getuid()}")


def connection_config(
    memory_limit: str | None = "1GB", threads: int | None = None
) -> dict[str, Any]:
    """DuckDB settings for user databases: user queries never need files, extensions or
    settings changes; memory is capped (DuckDB spills to a temporary directory beyond it)
    because its default, most of the machine's RAM, is no neighbour for a server. Every
    connection of a process should agree (DuckDB refuses a second connection to the same file
    with other settings): the defaults are those of the settings (CHATTER_DUCKDB_*)."""
    config: dict[str, Any] = {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "temp_directory": spill_directory(),
        "lock_configuration": True,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    return config


class DuckDBEngine:
    """One read-only DuckDB database; each query runs on its own cursor with a time limit."""

    dialect = "duckdb"

    def __init__(
        self, path: Path, *, timeout_s: float = 30.0, config: dict[str, Any] | None = None
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.timeout_s = timeout_s
        if not self.path.exists():
            raise DatabaseNotFoundError(f"Database file {self.path} does not exist.")
        if self.path.is_dir():
            raise NotADuckDBFileError(f"{self.path} is a directory, not a DuckDB database file.")
        try:
            self._con = duckdb.connect(
                str(self.path), read_only=True, config=config or connection_config()
            )
        except duckdb.IOException as err:
            text = str(err)
            if "lock" in text.lower():
                raise DatabaseLockedError(
                    f"Database {self.path} is locked by another process that is writing to it; "
                    "close that process or point --database at a copy."
                ) from None
            raise NotADuckDBFileError(
                f"{self.path} cannot be opened as a DuckDB database: {_first_line(text)}"
            ) from None
        except duckdb.Error as err:
            raise NotADuckDBFileError(
                f"{self.path} cannot be opened as a DuckDB database: {_first_line(str(err))}"
            ) from None
        self.identity = str(self.path)
        self._lock = threading.Lock()
        self._active: dict[int, set[duckdb.DuckDBPyConnection]] = {}  # thread -> cursors

    def interrupt(self, threads: set[int] | None = None) -> int:
        """Stop the queries running on ``threads`` (all when None); returns how many."""
        with self._lock:
            cursors = [
                c for t, cs in self._active.items() if threads is None or t in threads for c in cs
            ]
        for cursor in cursors:
            cursor.interrupt()
        return len(cursors)

    def busy(self) -> bool:
        """Whether a query is running on this engine now."""
        with self._lock:
            return any(self._active.values())

    @property
    def version(self) -> str:
        return data_version(self.path)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self, ast: exp.Expr) -> str:
        """DuckDB binds ``$name`` placeholders as they are."""
        return ast.sql(self.dialect)

    def schema(self) -> dict[str, dict[str, str]]:
        """Table -> column -> type, for the tables of the main schema."""
        rows = self.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position",
            {},
        ).rows
        out: dict[str, dict[str, str]] = {}
        for table, column, kind in rows:
            out.setdefault(table, {})[column] = kind
        return out

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own, interrupted after ``timeout_s``; DuckDB errors become ours."""
        with self._lock:
            try:
                cursor = self._con.cursor()
            except duckdb.Error as err:  # closed: the pool let it go, or the process is ending
                raise QueryExecutionError(
                    f"The connection to {self.path} is closed: {_first_line(str(err))}"
                ) from None
            self._active.setdefault(threading.get_ident(), set()).add(cursor)
        timer = deadlines.after(self.timeout_s, cursor.interrupt)
        try:
            yield cursor
        except duckdb.InterruptException:
            raise QueryTimeoutError(
                f"Query ran longer than {self.timeout_s:g} s and was stopped "
                "(raise CHATTER_QUERY_TIMEOUT_S, or narrow the question with filters)."
            ) from None
        except duckdb.Error as err:
            raise QueryExecutionError(
                f"DuckDB could not run the query: {_first_line(str(err))}"
            ) from None
        finally:
            timer.cancel()
            with self._lock:  # a thread with no query left has no entry: threads come and go
                ident = threading.get_ident()
                cursors = self._active.get(ident, set())
                cursors.discard(cursor)
                if not cursors:
                    self._active.pop(ident, None)
            cursor.close()

    def execute(
        self, sql: str, params: dict[str, Any] | None = None, *, row_cap: int | None = None
    ) -> RawResult:
        """Run one statement; interrupt it after ``timeout_s``; keep at most ``row_cap`` rows."""
        started = time.perf_counter()
        with self._cursor() as cursor:
            cursor.execute(sql, params or {})
            columns = tuple(d[0] for d in cursor.description or ())
            rows = cursor.fetchall() if row_cap is None else cursor.fetchmany(row_cap + 1)
        truncated = row_cap is not None and len(rows) > row_cap
        if truncated:
            rows = rows[:row_cap]
        duration_ms = (time.perf_counter() - started) * 1000
        log.debug("query_executed", rows=len(rows), truncated=truncated, ms=round(duration_ms, 2))
        return RawResult(columns, rows, truncated, duration_ms)

    def fetch_arrays(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Run one statement and return its columns as numpy arrays (for sample-based tests
        that need per-row values: only the columns they ask for cross into Python)."""
        with self._cursor() as cursor:
            cursor.execute(sql, params or {})
            arrays = cursor.fetchnumpy()
        return {name: np.asarray(values) for name, values in arrays.items()}


#: The name the rest of chatter (and its tests) knew the DuckDB engine by.
Engine = DuckDBEngine

__all__ = ["DuckDBEngine", "Engine", "RawResult", "check_schema", "connection_config"]
