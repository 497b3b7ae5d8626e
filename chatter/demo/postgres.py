"""Loading the demo dataset into PostgreSQL: the same tables, names and types as the DuckDB
demo, built in DuckDB (the same SQL, so the same rows for a seed) and streamed over with COPY.

The load is one transaction: a reader sees the old tables or the new ones, never half. The
connection comes from the caller (who knows the URL and keeps its password to itself).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from chatter.demo.writer import DemoSummary, generate_demo
from chatter.errors import OutputExistsError
from chatter.logs import get_logger

log = get_logger("chatter.demo")

TABLES = ("users", "events", "revenue")
#: DuckDB column types of the demo -> the PostgreSQL types that hold the same values.
_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
}
_CHUNK = 1 << 20


def load_demo_postgres(
    connect: Callable[[], Any],
    name: str,
    users: int = 100_000,
    seed: int = 42,
    *,
    overwrite: bool = False,
) -> DemoSummary:
    """Write the demo dataset into the database ``connect()`` opens (``name``: how to show
    it, without a password); existing demo tables need ``overwrite``."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chatter-demo-") as scratch:
        built = generate_demo(Path(scratch) / "demo.duckdb", users=users, seed=seed)
        source = duckdb.connect(str(built.path), read_only=True)
        try:
            with connect() as conn:
                _refuse_to_replace(conn, name, overwrite)
                for table in TABLES:
                    _copy_table(source, conn, table, Path(scratch))
                conn.commit()
                conn.autocommit = True
                for table in TABLES:  # the planner's statistics, and the cache's data version
                    conn.execute(f'ANALYZE "{table}"')
        finally:
            source.close()
    summary = DemoSummary(
        name,
        built.users,
        built.events,
        built.revenue_rows,
        seed,
        time.perf_counter() - started,
    )
    log.info(
        "demo_loaded",
        database=name,
        users=built.users,
        events=built.events,
        revenue_rows=built.revenue_rows,
        seed=seed,
        seconds=round(summary.seconds, 3),
    )
    return summary


def _refuse_to_replace(conn: Any, name: str, overwrite: bool) -> None:
    present = [
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
            [list(TABLES)],
        ).fetchall()
    ]
    if present and not overwrite:
        raise OutputExistsError(
            f"{name} already has demo table(s) {', '.join(sorted(present))}; "
            "pass --force to replace them."
        )


def _copy_table(source: duckdb.DuckDBPyConnection, conn: Any, table: str, scratch: Path) -> None:
    """Create ``table`` with the DuckDB table's columns and stream its rows in as CSV."""
    columns = source.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    ddl = ", ".join(f'"{column}" {_TYPES[kind]}' for column, kind in columns)
    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    conn.execute(f'CREATE TABLE "{table}" ({ddl})')
    csv = scratch / f"{table}.csv"
    source.execute(f"COPY \"{table}\" TO '{csv}' (FORMAT csv, HEADER false)")
    names = ", ".join(f'"{column}"' for column, _ in columns)
    statement = f'COPY "{table}" ({names}) FROM STDIN (FORMAT csv)'
    with conn.cursor().copy(statement) as copy, csv.open("rb") as rows:
        while chunk := rows.read(_CHUNK):
            copy.write(chunk)
    csv.unlink()
