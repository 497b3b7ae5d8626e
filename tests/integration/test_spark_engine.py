"""The Spark engine on pyspark in local mode over the demo's Parquet files: read-only (anything
but one query refused, files named in SQL not read), a time limit that cancels Spark's jobs,
the row cap, interrupts, values bound as parameters, a data version that follows the files (and
the result cache with it), tokens kept out of identities, and bad URLs, directories and tables
refused with a clear error naming the part at fault (exit code 2, HTTP 4xx)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import duckdb
import pytest
import sqlglot
from api_server import key_of, running_server
from cli_runner import run_cli
from spark_fixture import require_spark, spark_url

from chatter.demo import generate_demo
from chatter.demo.parquet import write_demo_parquet
from chatter.errors import (
    DatabaseError,
    DatabaseNotFoundError,
    MissingSchemaError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.semantic.cache import ResultCache
from chatter.semantic.engines import open_engine, parse_database
from chatter.semantic.engines.locator import DatabaseUrl
from chatter.semantic.engines.spark_dialect import NAME as SPARK_DIALECT
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USERS = 500
#: Slow on purpose: a sum over ten billion generated rows (minutes on two cores).
ENDLESS = "SELECT sum(id * id % 7) AS s FROM range(0, 10000000000)"


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_spark()
    directory = tmp_path_factory.mktemp("spark-demo")
    ran = run_cli(
        "demo",
        "--users",
        str(USERS),
        "--seed",
        "3",
        "--out",
        str(directory),
        "--format",
        "parquet",
        home=tmp_path_factory.mktemp("spark-home"),
    )
    assert ran.returncode == 0, ran.stderr
    return directory


@pytest.fixture(scope="module")
def loaded(parquet_dir: Path) -> str:
    return spark_url(parquet_dir)


def active_jobs(engine: object) -> list[int]:
    return list(engine._spark.sparkContext.statusTracker().getActiveJobsIds())  # type: ignore[attr-defined]


# ---- the Parquet demo ------------------------------------------------------------------------


def test_the_parquet_demo_holds_the_duckdb_demo_rows(parquet_dir: Path, tmp_path: Path) -> None:
    duck = generate_demo(tmp_path / "same.duckdb", users=USERS, seed=3)
    con = duckdb.connect(str(duck.path), read_only=True)
    try:
        for table in ("users", "events", "revenue"):
            file = str(parquet_dir / f"{table}.parquet")
            in_db = con.execute(f"SELECT * FROM {table}").fetchall()
            in_file = con.execute(f"SELECT * FROM read_parquet('{file}')").fetchall()
            assert in_file == in_db, table
            kinds = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{file}')").fetchall()
            assert [k[:2] for k in kinds] == [
                k[:2] for k in con.execute(f"DESCRIBE {table}").fetchall()
            ]
    finally:
        con.close()


def test_the_parquet_demo_refuses_to_replace_files_and_bad_formats(tmp_path: Path) -> None:
    out = tmp_path / "pq"
    home = tmp_path / "home"
    first = run_cli("demo", "--users", "50", "--out", str(out), "--format", "parquet", home=home)
    assert first.returncode == 0, first.stderr
    again = run_cli("demo", "--users", "50", "--out", str(out), "--format", "parquet", home=home)
    assert again.returncode == 2 and "users.parquet" in again.stderr and "--force" in again.stderr
    forced = run_cli(
        "demo", "--users", "60", "--out", str(out), "--format", "parquet", "--force", home=home
    )
    assert forced.returncode == 0 and "60 users" in forced.stdout
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    bad = run_cli("demo", "--out", str(out), "--format", "csv", home=home)
    assert bad.returncode == 2 and "'csv'" in bad.stderr and "duckdb or parquet" in bad.stderr
    spark = run_cli("demo", "--out", f"spark://{out}", home=home)
    assert spark.returncode == 2 and "--format parquet" in spark.stderr


# ---- the engine ------------------------------------------------------------------------------


def test_a_long_query_is_cancelled_at_the_time_limit(loaded: str) -> None:
    with open_engine(loaded, timeout_s=1.0) as engine:
        assert engine.dialect == SPARK_DIALECT
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match=r"1 s"):
            engine.execute(ENDLESS)
        assert time.perf_counter() - started < 10
        deadline = time.monotonic() + 10  # the job itself was cancelled, not only abandoned
        while active_jobs(engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert active_jobs(engine) == []
        assert engine.execute("SELECT 1 AS one").rows == [(1,)]  # and the engine still works


def test_interrupt_stops_a_running_query(loaded: str) -> None:
    with open_engine(loaded, timeout_s=60) as engine:
        failure: list[BaseException] = []

        def run() -> None:
            try:
                engine.execute(ENDLESS)
            except BaseException as err:
                failure.append(err)

        worker = threading.Thread(target=run)
        started = time.perf_counter()
        worker.start()
        while not active_jobs(engine):
            time.sleep(0.05)
        assert engine.interrupt({worker.ident or 0}) == 1
        worker.join(20)
        assert time.perf_counter() - started < 20
        assert failure and isinstance(failure[0], QueryTimeoutError), failure
        assert not engine.busy()


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (a INT)",
        "CREATE TEMPORARY VIEW intruder AS SELECT 1",
        "INSERT INTO users SELECT * FROM users",
        "DROP VIEW users",
        "SET spark.sql.runSQLOnFiles = true",
        "CACHE TABLE users",
        "ADD JAR /tmp/intruder.jar",
        "SELECT 1; DROP VIEW users",
    ],
)
def test_anything_but_one_query_is_refused(loaded: str, statement: str) -> None:
    with open_engine(loaded) as engine:
        with pytest.raises(QueryExecutionError, match="Refused"):
            engine.execute(statement)
        assert engine.execute("SELECT count(*) AS n FROM users").rows == [(USERS,)]


def test_files_named_in_sql_are_not_read(loaded: str, parquet_dir: Path) -> None:
    with open_engine(loaded) as engine, pytest.raises(QueryExecutionError, match="cannot be found"):
        engine.execute(f"SELECT * FROM parquet.`{parquet_dir / 'users.parquet'}`")


def test_the_row_cap_keeps_no_more_than_it_says(loaded: str) -> None:
    with open_engine(loaded) as engine:
        capped = engine.execute("SELECT id AS n FROM range(0, 50)", row_cap=10)
        assert capped.columns == ("n",) and len(capped.rows) == 10 and capped.truncated
        exact = engine.execute("SELECT id AS n FROM range(0, 10)", row_cap=10)
        assert len(exact.rows) == 10 and not exact.truncated


def test_values_are_bound_as_parameters(loaded: str) -> None:
    with Warehouse(open_engine(loaded), default_model()) as wh:
        hostile = "x' OR '1'='1"
        result = wh.query(
            {"measures": ["users"], "filters": [{"field": "industry", "op": "=", "value": hostile}]}
        )
        assert result.rows == [(0,)]
        assert ":p1" in wh.engine.render(wh.compile(result.query).ast)  # type: ignore[arg-type]
        percent = wh.query(
            {
                "measures": ["users"],
                "filters": [{"field": "industry", "op": "contains", "value": "%"}],
            }
        )
        assert percent.rows == [(0,)]


def test_the_data_version_and_the_cache_follow_the_files(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    write_demo_parquet(directory, users=200, seed=1)
    cache = ResultCache(tmp_path / "cache")
    query = {"measures": ["users"]}
    with Warehouse(open_engine(spark_url(directory)), default_model(), cache=cache) as wh:
        before = wh.engine.version
        first = wh.query(query)
        again = wh.query(query)
        assert first.rows == [(200,)] and not first.cached and again.cached
        write_demo_parquet(directory, users=300, seed=1, overwrite=True)
        assert wh.engine.version != before
        after = wh.query(query)  # the views are made again over the new files
        assert not after.cached and after.rows == [(300,)]


def test_a_token_never_reaches_the_identity() -> None:
    secret = "tok-93x-not-real"
    url = parse_database(f"sc://spark.internal:15002/;token={secret};use_ssl=true;data=/srv/d")
    assert isinstance(url, DatabaseUrl) and url.kind == "spark"
    assert secret not in url.identity and secret not in str(url) and secret not in repr(url)
    assert url.identity == "sc://spark.internal:15002/?use_ssl=true&data=/srv/d"
    assert secret in url.conninfo  # kept, for connecting only


# ---- bad input -------------------------------------------------------------------------------


def bad_cases(parquet_dir: Path, tmp_path: Path) -> dict[str, tuple[str, str, type[Exception]]]:
    """case -> (URL, words the error must hold, error type)."""
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    half = tmp_path / "half"
    half.mkdir(exist_ok=True)
    (half / "users.parquet").write_bytes((parquet_dir / "users.parquet").read_bytes())
    return {
        "missing directory": (
            spark_url(tmp_path / "nowhere"),
            f"{tmp_path / 'nowhere'} does not exist",
            DatabaseNotFoundError,
        ),
        "no tables": (spark_url(empty), "holds no <table>.parquet files", DatabaseNotFoundError),
        "bad port": ("spark://host:99999/d", "malformed", DatabaseError),
        "missing table": (spark_url(half), "table 'events' is missing", MissingSchemaError),
        "another master": (spark_url(parquet_dir, master="local[1]"), "local[2]", DatabaseError),
        "no connect server": (
            f"sc://127.0.0.1:1/;token=tok-93x-not-real;data={parquet_dir}",
            "No Spark Connect server answers at 127.0.0.1:1",
            DatabaseError,
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing directory",
        "no tables",
        "bad port",
        "missing table",
        "another master",
        "no connect server",
    ],
)
def test_bad_input_on_the_cli_exits_2_naming_the_part(
    case: str, parquet_dir: Path, loaded: str, tmp_path: Path
) -> None:
    url, words, _ = bad_cases(parquet_dir, tmp_path)[case]
    ran = run_cli(
        "query", "-m", "events", "-d", "event_type", "--database", url, home=tmp_path / "home"
    )
    assert ran.returncode == 2, (ran.stdout, ran.stderr)
    assert words in ran.stderr
    assert "Traceback" not in ran.stderr
    assert "tok-93x-not-real" not in ran.stdout + ran.stderr


def test_a_host_in_a_spark_url_is_its_master() -> None:
    """``spark://data/dir`` names a master host ``data``: Spark's own URL form, said back."""
    url = parse_database("spark://data/dir")
    assert isinstance(url, DatabaseUrl) and url.host == "data" and url.dbname == "/dir"


def test_a_timeout_on_the_cli_exits_with_the_timeout_code(loaded: str, tmp_path: Path) -> None:
    ran = run_cli(
        "query",
        "-m",
        "events",
        "-d",
        "event_ts",
        "--time-grain",
        "day",
        "--no-cache",
        "--database",
        loaded,
        home=tmp_path / "home",
        env={"CHATTER_QUERY_TIMEOUT_S": "0.001"},
    )
    # The caller's to act on (a longer limit, a narrower question): exit code 2, as on every
    # engine (HTTP 422).
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert "longer than 0.001 s" in ran.stderr


def test_a_missing_directory_over_http_is_a_4xx(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    server_home = tmp_path / "home"
    with (
        running_server(server_home, spark_url(missing)) as server,  # type: ignore[arg-type]
        server.client(key_of("alice")) as http,
    ):
        reply = http.post("/api/v1/chat/query", json={"message": "conversion rate by plan"})
    body = reply.json()
    assert 400 <= reply.status_code < 500, body
    assert str(missing) in json.dumps(body)
    assert body["error"]["code"] == "database_not_found"


def test_importing_the_engine_package_does_not_start_spark() -> None:
    probe = "import sys, chatter.semantic.engines; print('pyspark' in sys.modules)"
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_sql_shown_is_the_spark_sql_that_ran(loaded: str) -> None:
    """Spark's TRUNC knows no days and sqlglot's spark has no exact percentile: the dialect
    spells both, and the answer's SQL is the statement as Spark ran it."""
    with Warehouse(open_engine(loaded), default_model()) as wh:
        days = wh.query({"measures": ["events"], "dimensions": ["event_ts"], "time_grain": "day"})
        assert days.rows and all(row[0] is not None for row in days.rows)
        assert "DATE_TRUNC('DAY'" in days.sql and "TRUNC(`events`" not in days.sql
        assert wh.engine.execute(days.sql).rows[: len(days.rows)] == days.rows
        median = sqlglot.parse_one(
            "SELECT QUANTILE_CONT(user_id, 0.5) AS q FROM users", read="duckdb"
        )
        exact = wh.engine.render(median)
        assert "PERCENTILE(" in exact and "APPROX" not in exact
        assert wh.engine.execute(exact).rows == [((USERS + 1) / 2,)]  # ids 1..USERS
