"""Writing the demo DuckDB file: ``generate_demo`` builds it atomically, and
``ensure_demo_database`` builds it on first use."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from chatter.demo.tables import table_statements
from chatter.errors import InvalidValueError, OutputExistsError
from chatter.logs import get_logger

log = get_logger("chatter.demo")

MAX_USERS = 50_000_000


@dataclass(frozen=True)
class DemoSummary:
    path: Path | str  # a file, or a database URL without its password
    users: int
    events: int
    revenue_rows: int
    seed: int
    seconds: float


def generate_demo(
    path: Path, users: int = 100_000, seed: int = 42, *, overwrite: bool = False
) -> DemoSummary:
    """Write the demo dataset (CONTRACT.md section 1) to ``path`` and describe what was written.

    The file appears atomically: it is built under a temporary name and renamed, so a reader
    never sees half a database and a failed run leaves any earlier file as it was.
    """
    if not isinstance(users, int) or isinstance(users, bool) or not 1 <= users <= MAX_USERS:
        raise InvalidValueError("--users", users, f"a whole number from 1 to {MAX_USERS}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**40:
        raise InvalidValueError("--seed", seed, "a whole number from 0 to 2**40 - 1")
    path = Path(path).expanduser()
    if path.is_dir():
        raise InvalidValueError("--out", str(path), "a file path, not a directory")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; pass --force to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    started = time.perf_counter()
    try:
        con = duckdb.connect(str(tmp))
        try:
            for statement in table_statements(users, seed):
                con.execute(statement)
            counts = [
                con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in ("users", "events", "revenue")
            ]
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    summary = DemoSummary(
        path, counts[0], counts[1], counts[2], seed, time.perf_counter() - started
    )
    log.info(
        "demo_generated",
        path=str(path),
        users=summary.users,
        events=summary.events,
        revenue_rows=summary.revenue_rows,
        seed=seed,
        seconds=round(summary.seconds, 3),
    )
    return summary


def ensure_demo_database(path: Path, users: int, seed: int) -> Path:
    """Return ``path``, generating the demo there first if it does not exist yet.

    Two processes racing on first use both generate and atomically rename the same content.
    """
    if not path.exists():
        log.info("demo_first_use", path=str(path), users=users, seed=seed)
        with contextlib.suppress(OutputExistsError):  # another process finished first
            generate_demo(path, users=users, seed=seed)
    return path
