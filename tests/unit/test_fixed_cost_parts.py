"""The pieces that took the fixed cost off a run's path, each still doing its job: one watchdog
for every query's time limit, reused step workers, audit entries committed in groups (and all of
them before the run returns), and facts about the data worked out once per version of it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
import sqlglot
from sqlglot import exp

from chatter.governance.audit import AuditLog
from chatter.governance.audit_batch import batched, current_batch
from chatter.semantic import deadlines
from chatter.semantic.engine import Engine
from chatter.semantic.model import default_model
from chatter.semantic.query import Filter
from chatter.semantic.warehouse import Warehouse
from chatter.workflow import step_workers

# ---- deadlines ------------------------------------------------------------------------------


def test_a_deadline_fires_in_order_and_a_cancelled_one_never() -> None:
    fired: list[str] = []
    done = threading.Event()
    deadlines.after(0.15, lambda: (fired.append("late"), done.set()))
    cancelled = deadlines.after(0.05, lambda: fired.append("cancelled"))
    deadlines.after(0.02, lambda: fired.append("early"))
    cancelled.cancel()
    assert done.wait(5.0)
    assert fired == ["early", "late"]


def test_the_watchdog_outlives_a_callback_that_raises() -> None:
    def boom() -> None:
        raise RuntimeError("interrupt failed")

    deadlines.after(0.01, boom)
    done = threading.Event()
    deadlines.after(0.05, done.set)
    assert done.wait(5.0), "a failed callback stopped the watchdog"


def test_a_query_past_its_limit_is_interrupted(tmp_path: Path) -> None:
    from chatter.errors import QueryTimeoutError

    path = tmp_path / "slow.duckdb"
    duckdb.connect(str(path)).close()
    with Engine(path, timeout_s=0.2) as engine:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError):
            engine.execute("SELECT count(*) FROM range(10000000000) a")
        assert time.monotonic() - started < 30


# ---- step workers ---------------------------------------------------------------------------


def test_step_workers_return_results_and_raise_errors() -> None:
    assert step_workers.submit(lambda: 41 + 1).result(5) == 42

    def fails() -> None:
        raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        step_workers.submit(fails).result(5)


def test_an_idle_worker_is_reused_and_busy_ones_do_not_queue_a_step() -> None:
    first = step_workers.submit(threading.get_ident).result(5)
    second = step_workers.submit(threading.get_ident).result(5)
    assert first == second, "a sequential step started a new thread"

    release = threading.Event()
    both = threading.Barrier(3, timeout=5)

    def blocked() -> None:
        both.wait()
        release.wait(5)

    futures = [step_workers.submit(blocked) for _ in range(2)]
    both.wait()  # both steps run at once: neither waited behind the other
    release.set()
    for future in futures:
        future.result(5)


# ---- audit batches --------------------------------------------------------------------------


def _entry(i: int) -> dict[str, object]:
    return {"actor": "ana", "role": "analyst", "action": f"tool.{i}", "decision": "allowed"}


def test_a_batch_commits_every_entry_in_order_before_it_returns(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    try:
        with batched(log) as batch:
            assert current_batch() is batch
            for i in range(25):
                batch.add(_entry(i))  # type: ignore[arg-type]
        assert current_batch() is None
        rows = log.query(limit=100)
        assert sorted(r.action for r in rows) == sorted(f"tool.{i}" for i in range(25))
        assert [r.action for r in sorted(rows, key=lambda r: r.seq)] == [
            f"tool.{i}" for i in range(25)
        ]
        assert log.verify().ok
    finally:
        log.close()


def test_entries_of_a_short_run_are_one_commit_and_a_long_run_does_not_wait(
    tmp_path: Path,
) -> None:
    from chatter.governance import audit_batch

    log = AuditLog(tmp_path / "audit.db")
    commits: list[int] = []
    real = log.append_many

    def counted(entries):  # type: ignore[no-untyped-def]
        commits.append(len(entries))
        return real(entries)

    log.append_many = counted  # type: ignore[method-assign]
    try:
        with batched(log) as batch:
            for i in range(6):
                batch.add(_entry(i))  # type: ignore[arg-type]
        assert commits == [6]
        commits.clear()
        with batched(log) as batch:
            started = time.monotonic()
            batch.add(_entry(0))  # type: ignore[arg-type]
            while not commits and time.monotonic() - started < 5:
                time.sleep(0.02)
            assert commits == [1], "an entry waited for the run's end, not the gathering time"
            assert time.monotonic() - started < audit_batch.GATHER_S + 2
        assert len(log.query(limit=100)) == 7
    finally:
        log.close()


def test_a_batch_that_cannot_be_written_raises_on_exit(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    try:
        with pytest.raises(ValueError, match="decision"), batched(log) as batch:
            batch.add({"actor": "a", "role": "r", "action": "x", "decision": "maybe"})
    finally:
        log.close()


# ---- facts about the data -------------------------------------------------------------------


def test_a_fact_is_worked_out_once_per_data_version_and_scope(tiny_db: Path) -> None:
    calls: list[str] = []

    def count_users(wh: Warehouse) -> int:
        calls.append("x")
        return int(wh.engine.execute("SELECT count(*) FROM users").rows[0][0])

    model = default_model()
    with Warehouse(Engine(tiny_db), model) as wh:
        assert wh.fact("users", {"t": 1}, lambda: count_users(wh)) == 4
        assert wh.fact("users", {"t": 1}, lambda: count_users(wh)) == 4
        assert len(calls) == 1
        wh.fact("users", {"t": 2}, lambda: count_users(wh))  # other params: another fact
        assert len(calls) == 2
    scoped = (Filter(field="plan_type", op="=", value="basic"),)
    with Warehouse(Engine(tiny_db), model, scope=scoped) as wh:
        wh.fact("users", {"t": 1}, lambda: count_users(wh))  # another scope: another fact
        assert len(calls) == 3

    con = duckdb.connect(str(tiny_db))
    con.execute(
        "INSERT INTO users VALUES (5, DATE '2024-03-01', 'basic', 'alpha', 'web', 'S', 'AA',"
        " FALSE, FALSE, NULL); CHECKPOINT"
    )
    con.close()
    with Warehouse(Engine(tiny_db), model) as wh:
        assert wh.fact("users", {"t": 1}, lambda: count_users(wh)) == 5, "a stale fact"


# ---- the analyses' array work ---------------------------------------------------------------


@pytest.mark.parametrize("spread", [5, 300, 5000])  # the last grid is too big to bin: sorted
def test_distinct_pairs_match_a_sort_of_the_rows(spread: int) -> None:
    from chatter.tools.analyses.usage import _distinct_pairs

    rng = np.random.default_rng(spread)
    a = rng.integers(1, spread, 20_000).astype(np.float64)
    b = rng.integers(1, spread, 20_000).astype(np.float64)
    weights = rng.integers(1, 50, 20_000).astype(np.float64)
    pairs, summed = _distinct_pairs(a, b, weights)
    expected, inverse = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
    assert np.array_equal(pairs, expected)
    assert np.array_equal(summed, np.bincount(inverse.ravel(), weights=weights))
    half = a + 0.5  # not whole counts: the sort, still right
    pairs, _ = _distinct_pairs(half, b, weights)
    assert np.array_equal(pairs, np.unique(np.column_stack([half, b]), axis=0))


# ---- statements built once ---------------------------------------------------------------------


def test_a_built_template_is_the_callers_own_copy() -> None:
    from chatter.tools.analyses.sql_template import build_sql

    names = {"T_X": "users", "A_X": "users", "C_K": "user_id"}
    first = build_sql("SELECT A_X.C_K FROM T_X AS A_X WHERE A_X.C_K > $k", names)
    first.find(exp.Table).replace(exp.to_table("someone_elses"))  # a caller edits its tree
    again = build_sql("SELECT A_X.C_K FROM T_X AS A_X WHERE A_X.C_K > $k", names)
    assert (
        again.sql("duckdb")
        == 'SELECT "users"."user_id" FROM "users" AS "users" WHERE "users"."user_id" > $k'
    )
    other = build_sql("SELECT A_X.C_K FROM T_X AS A_X WHERE A_X.C_K > $k", {**names, "C_K": "id"})
    assert '"users"."id"' in other.sql("duckdb")


def test_the_sql_shown_follows_the_values_and_their_types() -> None:
    import datetime as dt

    from chatter.semantic.literals import literal_sql

    ast = sqlglot.parse_one("SELECT a FROM t WHERE d <= $day AND n = $n", read="duckdb")
    rendered = ast.sql("duckdb")
    shown = [
        literal_sql(ast, {"day": dt.date(2024, 1, 31), "n": 1}, "duckdb", rendered=rendered),
        literal_sql(ast, {"day": dt.date(2024, 1, 31), "n": 1}, "duckdb", rendered=rendered),
        literal_sql(ast, {"day": dt.date(2024, 2, 1), "n": 1}, "duckdb", rendered=rendered),
        literal_sql(ast, {"day": dt.date(2024, 2, 1), "n": "1"}, "duckdb", rendered=rendered),
    ]
    assert shown[0] == shown[1] == literal_sql(ast, {"day": dt.date(2024, 1, 31), "n": 1})
    assert "'2024-01-31'" in shown[0] and "n = 1" in shown[0]
    assert "'2024-02-01'" in shown[2]
    assert "n = '1'" in shown[3]  # the same repr, another type: another statement shown
    assert "$" in ast.sql("duckdb")  # the tree itself keeps its placeholders


def test_a_statement_over_clean_tables_is_not_copied(tiny_db: Path) -> None:
    from chatter.tools.analyses.clean_rows import RowCleaner
    from chatter.tools.analyses.sql_template import build_sql

    with Warehouse(Engine(tiny_db), default_model()) as wh:
        ast = build_sql("SELECT COUNT(*) FROM T_U AS A_U", {"T_U": "users", "A_U": "users"})
        assert RowCleaner(wh).clean(ast) is ast
    con = duckdb.connect(str(tiny_db))
    con.execute("INSERT INTO users SELECT * FROM users LIMIT 1; CHECKPOINT")  # a duplicate id
    con.close()
    with Warehouse(Engine(tiny_db), default_model()) as wh:
        cleaned = RowCleaner(wh).clean(ast)
        assert cleaned is not ast and cleaned.sql("duckdb") != ast.sql("duckdb")
        assert wh.run_ast(cleaned).rows[0][0] == wh.run_ast(ast).rows[0][0] - 1


def test_a_run_document_pydantic_cannot_write_is_stored_as_json_writes_it() -> None:
    import json

    from chatter.result import WorkflowResult
    from chatter.workflow.runs import _as_json

    fine = WorkflowResult(workflow="w", run_id="r", status="completed")
    assert json.loads(_as_json(fine)) == fine.model_dump(mode="json")
    odd = WorkflowResult(workflow="w \udcff", run_id="r", status="completed")  # a lone surrogate
    assert json.loads(_as_json(odd))["workflow"] == "w \udcff"
