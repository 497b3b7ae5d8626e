"""Writing the demo dataset as Parquet files (``users.parquet``, ``events.parquet``,
``revenue.parquet``) for Spark: built in DuckDB (the same SQL, so the same rows for a seed) and
written by DuckDB's ``COPY ... TO ... (FORMAT parquet)``.

Each file appears atomically (written under a temporary name, then renamed); rows keep the
tables' order, so a reader that takes the files in order sees the DuckDB tables' rows.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from chatter.demo.writer import DemoSummary, generate_demo
from chatter.errors import InvalidValueError, OutputExistsError
from chatter.logs import get_logger

log = get_logger("chatter.demo")

TABLES = ("users", "events", "revenue")


def write_demo_parquet(
    directory: Path, users: int = 100_000, seed: int = 42, *, overwrite: bool = False
) -> DemoSummary:
    """Write the demo dataset into ``directory`` as one Parquet file per table; existing
    files need ``overwrite``."""
    directory = Path(directory).expanduser()
    if directory.exists() and not directory.is_dir():
        raise InvalidValueError("--out", str(directory), "a directory for the Parquet files")
    existing = [t for t in TABLES if (directory / f"{t}.parquet").exists()]
    if existing and not overwrite:
        names = ", ".join(f"{t}.parquet" for t in existing)
        raise OutputExistsError(f"{directory} already holds {names}; pass --force to replace.")
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatter-demo-") as scratch:
        built = generate_demo(Path(scratch) / "demo.duckdb", users=users, seed=seed)
        con = duckdb.connect(str(built.path), read_only=True)
        try:
            for table in TABLES:
                final = directory / f"{table}.parquet"
                tmp = directory / f".{table}.{uuid.uuid4().hex}.tmp"
                try:
                    # The path is ours (a directory and a table name), not the user's SQL.
                    target = str(tmp).replace("'", "''")
                    con.execute(
                        f"COPY (SELECT * FROM {table}) TO '{target}' "
                        "(FORMAT parquet, COMPRESSION zstd)"
                    )
                    os.replace(tmp, final)
                finally:
                    tmp.unlink(missing_ok=True)
        finally:
            con.close()
    summary = DemoSummary(
        directory,
        built.users,
        built.events,
        built.revenue_rows,
        seed,
        time.perf_counter() - started,
    )
    log.info(
        "demo_parquet_written",
        directory=str(directory),
        users=summary.users,
        seed=seed,
        seconds=round(summary.seconds, 3),
    )
    return summary
