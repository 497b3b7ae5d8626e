"""The engines chatter reads user data with, behind one interface (``base.Engine``).

``open_engine`` picks one from where the data lives: a file path is a DuckDB database, a
``postgresql://`` (or ``postgres://``) URL a PostgreSQL one, a ``spark://`` or Spark Connect
``sc://`` URL Spark SQL (pyspark is imported only then). Each engine module keeps its driver's
errors and settings to itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatter.semantic.engines.base import Engine, RawResult, check_schema
from chatter.semantic.engines.locator import Database, DatabaseUrl, parse_database


def open_engine(
    database: str | Path | DatabaseUrl,
    *,
    timeout_s: float = 30.0,
    duckdb_config: dict[str, Any] | None = None,
) -> Engine:
    """The read-only engine for ``database`` (a DuckDB file path or a database URL)."""
    where = parse_database(database)
    if isinstance(where, DatabaseUrl) and where.kind == "spark":
        from chatter.semantic.engines.spark import SparkEngine

        return SparkEngine(where, timeout_s=timeout_s)
    if isinstance(where, DatabaseUrl):
        from chatter.semantic.engines.postgres import PostgresEngine

        return PostgresEngine(where, timeout_s=timeout_s)
    from chatter.semantic.engines.duckdb import DuckDBEngine

    return DuckDBEngine(where, timeout_s=timeout_s, config=duckdb_config)


def engine_key(database: str | Path | DatabaseUrl) -> str:
    """One key per database, whatever way it was written (a resolved path, a URL identity)."""
    where = parse_database(database)
    if isinstance(where, DatabaseUrl):
        return where.identity
    return str(where.expanduser().resolve())


__all__ = [
    "Database",
    "DatabaseUrl",
    "Engine",
    "RawResult",
    "check_schema",
    "engine_key",
    "open_engine",
    "parse_database",
]
