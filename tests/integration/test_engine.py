"""The DuckDB engine on real files: read-only, time limit, row cap, schema and file problems."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from chatter.errors import (
    DatabaseLockedError,
    DatabaseNotFoundError,
    MissingSchemaError,
    NotADuckDBFileError,
    QueryExecutionError,
    QueryTimeoutError,
)
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse

pytestmark = pytest.mark.integration


def test_user_databases_are_opened_read_only(tiny_db: Path) -> None:
    with Engine(tiny_db) as engine:
        with pytest.raises(QueryExecutionError, match="read-only"):
            engine.execute("DELETE FROM users")
        with pytest.raises(QueryExecutionError):
            engine.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(QueryExecutionError):
            engine.execute("SET threads = 1")
        assert engine.execute("SELECT count(*) FROM users").rows == [(4,)]


def test_a_long_query_is_interrupted_at_the_timeout(tiny_db: Path) -> None:
    with Engine(tiny_db, timeout_s=0.2) as engine:
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match=r"0\.2 s"):
            engine.execute(
                "SELECT count(*) FROM range(10000000000) a, range(10) b WHERE a.range % 7 = b.range"
            )
        assert time.perf_counter() - started < 20  # interrupted, not run to the end
        # The engine is still usable afterwards.
        assert engine.execute("SELECT 1").rows == [(1,)]


def test_row_cap_truncates_and_says_so(tiny_db: Path) -> None:
    with Engine(tiny_db) as engine:
        capped = engine.execute("SELECT * FROM range(50)", row_cap=10)
        assert len(capped.rows) == 10 and capped.truncated
        exact = engine.execute("SELECT * FROM range(10)", row_cap=10)
        assert len(exact.rows) == 10 and not exact.truncated


def test_semantic_queries_report_truncation(tiny_db: Path) -> None:
    with Warehouse(Engine(tiny_db), default_model(), row_cap=2) as wh:
        result = wh.query({"measures": ["events"], "dimensions": ["event_ts__day"]})
        assert len(result.rows) == 2 and result.truncated
        assert result.sql.endswith("LIMIT 3")
        limited = wh.query({"measures": ["events"], "dimensions": ["event_ts__day"], "limit": 2})
        assert len(limited.rows) == 2 and not limited.truncated


def test_sql_as_run_reproduces_the_rows(tiny_db: Path) -> None:
    with Warehouse(Engine(tiny_db), default_model()) as wh:
        result = wh.query(
            {
                "measures": ["users"],
                "dimensions": ["plan_type"],
                "filters": [
                    {"field": "signup_date", "op": ">=", "value": "2024-01-10"},
                    {"field": "industry", "op": "=", "value": "O'Brien & co"},
                ],
            }
        )
    assert "CAST('2024-01-10' AS DATE)" in result.sql and "'O''Brien & co'" in result.sql
    con = duckdb.connect(str(tiny_db), read_only=True)
    assert con.execute(result.sql).fetchall() == result.rows
    con.close()


def test_missing_database_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotFoundError, match="does not exist"):
        Engine(tmp_path / "nope.duckdb")


@pytest.mark.parametrize("content", [b"hello, not a database" * 100, b""])
def test_a_file_that_is_not_duckdb(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.duckdb"
    path.write_bytes(content)
    with pytest.raises(NotADuckDBFileError, match=str(path)):
        Engine(path)
    assert path.read_bytes() == content  # nothing stored is touched


def test_a_database_locked_by_a_writer(tiny_db: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(30)",
            str(tiny_db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DatabaseLockedError, match="locked by another process"):
            Engine(tiny_db)
    finally:
        holder.kill()
        holder.wait()


def test_missing_tables_and_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE users (user_id BIGINT, plan_type VARCHAR, converted BOOLEAN)")
    con.close()
    with Warehouse(Engine(path), default_model()) as wh:
        assert wh.query({"measures": ["conversion_rate"], "dimensions": ["plan_type"]}).rows == []
        with pytest.raises(MissingSchemaError) as info:
            wh.query({"measures": ["users"], "dimensions": ["industry"]})
        assert "lacks column(s) industry" in info.value.message
        with pytest.raises(MissingSchemaError) as info:
            wh.query({"measures": ["events"]})
        assert "table 'events' is missing" in info.value.message
        assert info.value.exit_code == 2


def test_threads_that_ran_queries_leave_no_entry_behind(tiny_db: Path) -> None:
    with Engine(tiny_db) as engine:
        for _ in range(50):  # short-lived threads, as the API's and workflow steps' are
            thread = threading.Thread(target=engine.execute, args=("SELECT 1",))
            thread.start()
            thread.join()
        assert engine._active == {} and not engine.busy()
