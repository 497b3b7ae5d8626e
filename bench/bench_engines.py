"""The three templates on each engine, as ratios measured in this run: each template's run (the
result cache off, after a warm-up run) against the SQL statements its result reports, run
straight on that engine with its own client (every row fetched):

- DuckDB: a read-only connection with chatter's settings, to the demo file, columns fetched as
  numpy arrays (as ``bench_overhead.py`` does)
- PostgreSQL (when ``--postgres URL`` or CHATTER_BENCH_POSTGRES_URL names a server): psycopg
  on that database, the demo loaded there first (``chatter demo --out URL``) unless it already
  holds as many users
- Spark (pyspark in local mode, ``--master``, default ``local[2]``): a session of its own over
  the demo's Parquet files (``chatter demo --format parquet``), the same views chatter makes

Timings are the median of ``--rounds`` rounds (best in brackets), the run and its SQL taken in
turn, so a busy machine moves both sides of a ratio alike. Spark's start-up (once per process)
is printed apart. Prints the figures; never asserts on time; exits 0.

Run as ``python bench/bench_engines.py [--users 1000000] [--rounds 3] [--postgres URL]
[--engines duckdb,postgres,spark] [--templates a,b]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _data import bench_database, median

TEMPLATES = ("conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization")
TABLES = ("users", "events", "revenue")


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def mid(self) -> float:
        return median(self.samples)

    def ms(self) -> str:
        return f"{self.mid * 1000:9.1f} ms [{min(self.samples) * 1000:.1f}]"


@dataclass
class Engine:
    """One engine: the ``--database`` chatter is given, and its own way to run SQL directly."""

    name: str
    database: str
    direct: Callable[[str], int]  # run one statement, fetch every row, return the row count
    close: Callable[[], None] = lambda: None
    #: The statement as the engine's client takes it, from the SQL an answer shows.
    prepare: Callable[[str], str] = lambda sql: sql


# ---- the engines --------------------------------------------------------------------------


def duckdb_engine(path: Path) -> Engine:
    import duckdb

    from chatter.semantic.engines.duckdb import connection_config
    from chatter.settings import get_settings

    settings = get_settings()
    config = connection_config(settings.duckdb_memory_limit, settings.duckdb_threads)
    con = duckdb.connect(str(path), read_only=True, config=config)

    def direct(sql: str) -> int:  # columns as numpy arrays, as bench_overhead.py fetches them
        columns = con.execute(sql).fetchnumpy()
        return len(next(iter(columns.values()))) if columns else 0

    return Engine("duckdb", str(path), direct, con.close)


def postgres_engine(url: str, users: int) -> Engine:
    import psycopg
    import sqlglot

    from chatter.demo.postgres import load_demo_postgres
    from chatter.semantic.engines import parse_database
    from chatter.semantic.engines.postgres import PostgresEngine, writable_connection

    where = parse_database(url)
    with writable_connection(where) as conn:  # type: ignore[arg-type]
        present = conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()
        count = conn.execute("SELECT count(*) FROM users").fetchone() if present[0] else (0,)
    if count[0] != users:
        print(f"(loading the {users:,}-user demo into {where})", flush=True)
        load_demo_postgres(
            lambda: writable_connection(where),  # type: ignore[arg-type]
            str(where),
            users,
            42,
            overwrite=True,
        )
    conn = psycopg.connect(where.conninfo, autocommit=True)  # type: ignore[union-attr]
    conn.read_only = True
    renderer = PostgresEngine(where)  # type: ignore[arg-type]

    def prepare(sql: str) -> str:
        """The answer's SQL as the engine ran it: its renderer escapes ``%`` for psycopg,
        which the SQL shown does not."""
        return renderer.render(sqlglot.parse_one(sql, read="postgres"))

    def close() -> None:
        conn.close()
        renderer.close()

    return Engine(
        "postgres", url, lambda sql: len(conn.execute(sql, {}).fetchall()), close, prepare
    )


def parquet_directory(users: int, seed: int = 42) -> Path:
    from chatter.demo.parquet import write_demo_parquet

    root = Path(os.environ.get("CHATTER_BENCH_DIR", Path(tempfile.gettempdir()) / "chatter-bench"))
    directory = root / f"demo-{users}-{seed}-parquet"
    if not all((directory / f"{t}.parquet").exists() for t in TABLES):
        print(f"(writing the {users:,}-user demo as Parquet at {directory})", flush=True)
        write_demo_parquet(directory, users=users, seed=seed, overwrite=True)
    return directory


def spark_engine(directory: Path, master: str) -> tuple[Engine, float]:
    """The Spark engine and the seconds Spark took to start (the process's first session)."""
    from chatter.semantic.engines import open_engine

    url = f"spark://{directory}?master={master}"
    started = time.perf_counter()
    open_engine(url).close()  # starts Spark once for the process; later engines reuse it
    start_s = time.perf_counter() - started
    from pyspark.sql import SparkSession

    from chatter.semantic.engines.spark import SESSION_CONF

    session = SparkSession.builder.getOrCreate().newSession()
    for name, value in SESSION_CONF.items():
        session.conf.set(name, value)
    for table in TABLES:
        session.read.parquet(str(directory / f"{table}.parquet")).createOrReplaceTempView(table)
    return Engine("spark", url, lambda sql: len(session.sql(sql).collect())), start_s


# ---- timing ---------------------------------------------------------------------------------


def statements_of(result: Any) -> list[str]:
    """Every SQL statement the result reports, as run (in the engine's dialect)."""
    return [sql for step in result.steps if step.sql for sql in step.sql.split(";\n")]


def run_once(template: str, database: str) -> tuple[float, Any]:
    import chatter

    started = time.perf_counter()
    result = chatter.run_workflow(template, database=database, use_cache=False)
    seconds = time.perf_counter() - started
    if result.status != "completed":
        errors = [s.error for s in result.steps if s.error]
        raise SystemExit(f"{template} ended {result.status}: {errors}")
    return seconds, result


def sql_once(engine: Engine, statements: list[str]) -> float:
    started = time.perf_counter()
    for sql in statements:
        engine.direct(sql)
    return time.perf_counter() - started


def measure(engine: Engine, template: str, rounds: int) -> tuple[Timing, Timing, int]:
    run_once(template, engine.database)  # warm-up: compile, open, fill the engine's caches
    _, result = run_once(template, engine.database)
    statements = [engine.prepare(sql) for sql in statements_of(result)]
    sql_once(engine, statements)
    run, sql = Timing(), Timing()
    for _ in range(rounds):
        run.samples.append(run_once(template, engine.database)[0])
        sql.samples.append(sql_once(engine, statements))
    return run, sql, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--templates", default=",".join(TEMPLATES))
    parser.add_argument("--postgres", default=os.environ.get("CHATTER_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--master", default="local[2]", help="Spark master (local mode)")
    parser.add_argument(
        "--engines", default="duckdb,postgres,spark", help="which engines, comma-separated"
    )
    args = parser.parse_args()
    templates = [t for t in args.templates.split(",") if t]
    rounds = max(1, args.rounds)
    home = tempfile.mkdtemp(prefix="chatter-bench-engines-")
    os.environ["CHATTER_HOME"] = home
    engines: list[Engine] = []
    try:
        chosen = {e.strip() for e in args.engines.split(",")}
        if "duckdb" in chosen:
            engines.append(duckdb_engine(bench_database(args.users)))
        if "postgres" in chosen and args.postgres:
            engines.append(postgres_engine(args.postgres, args.users))
        elif "postgres" in chosen:
            print("(PostgreSQL left out: pass --postgres URL or set CHATTER_BENCH_POSTGRES_URL)")
        if "spark" in chosen:
            spark, start_s = spark_engine(parquet_directory(args.users), args.master)
            engines.append(spark)
            print(f"(Spark {args.master} started in {start_s:.1f} s, once for the process)")
        print(
            f"{args.users:,} users, {rounds} rounds after a warm-up; a template's run (cache "
            "off) vs its SQL run straight on the engine"
        )
        rows: list[tuple[str, str, float]] = []
        for engine in engines:
            print(f"  {engine.name}", flush=True)
            for template in templates:
                run, sql, count = measure(engine, template, rounds)
                ratio = run.mid / sql.mid
                rows.append((engine.name, template, ratio))
                print(
                    f"    {template:24} run {run.ms()} vs its {count:2} SQL {sql.ms()}: "
                    f"{ratio:5.2f}x",
                    flush=True,
                )
        print("ratios (run / its SQL on the same engine):")
        for name in dict.fromkeys(r[0] for r in rows):
            ratios = " ".join(f"{t}={r:.2f}x" for n, t, r in rows if n == name)
            print(f"  {name:9} {ratios}")
    finally:
        for engine in engines:
            engine.close()
        from chatter.services import close_shared_services

        close_shared_services()
        shutil.rmtree(home, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
