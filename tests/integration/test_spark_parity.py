"""The same demo data in DuckDB and as Parquet files read by Spark (local mode, ``local[2]``:
the code path of a cluster) gives the same answers: the three templates' rows, findings
(p-values within 1e-9) and insight sentences, and the rows of single queries asked through the
CLI, ``chatter.ask`` and the Python API. ``test_engine_parity.py`` holds PostgreSQL to the same
DuckDB answers, so all three engines agree.

Spark starts once for the whole process (seconds); each engine is a session of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from engine_parity import QUERIES, QUESTIONS, SEED, TEMPLATES, USERS, same
from spark_fixture import require_spark, spark_url

import chatter
from chatter.services import Services

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo of one seed as a DuckDB file and as Parquet files for Spark."""
    require_spark()
    home = tmp_path_factory.mktemp("spark-parity-home")
    duck = str(tmp_path_factory.mktemp("spark-parity") / "demo.duckdb")
    parquet = tmp_path_factory.mktemp("spark-parity-parquet")
    for out in ([duck], [str(parquet), "--format", "parquet"]):
        ran = run_cli("demo", "--users", str(USERS), "--seed", str(SEED), "--out", *out, home=home)
        assert ran.returncode == 0, ran.stderr
        assert f"{USERS:,} users" in ran.stdout
    assert sorted(p.name for p in parquet.iterdir()) == [
        "events.parquet",
        "revenue.parquet",
        "users.parquet",
    ]
    return {"duckdb": duck, "spark": spark_url(parquet)}


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_give_the_same_rows_findings_and_insights(
    template: str, databases: dict[str, str], services: Services
) -> None:
    runs = {
        engine: chatter.run_workflow(template, database=db, services=services).model_dump(
            mode="json"
        )
        for engine, db in databases.items()
    }
    duck, spark = runs["duckdb"], runs["spark"]
    assert duck["status"] == spark["status"] == "completed"
    assert [s["id"] for s in duck["steps"]] == [s["id"] for s in spark["steps"]]
    for a, b in zip(duck["steps"], spark["steps"], strict=True):
        assert a["error"] is None and b["error"] is None, (a["error"], b["error"])
        same(a["rows"], b["rows"], f"{template}.{a['id']}.rows")
    assert spark["findings"], "a template with no findings proves nothing"
    same(duck["findings"], spark["findings"], f"{template}.findings")
    assert [i["text"] for i in duck["insights"]] == [i["text"] for i in spark["insights"]]
    assert spark["insights"]
    # The Spark run really ran Spark SQL: backquoted names, which DuckDB does not read.
    statements = [s["sql"] for s in spark["steps"] if s["sql"]]
    assert statements and all("`" in json.dumps(sql) for sql in statements)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "_".join(q).replace(" ", ""))
def test_single_queries_on_the_cli_give_the_same_rows(
    query: list[str], databases: dict[str, str], tmp_path: Path
) -> None:
    rows = {}
    for engine, db in databases.items():
        ran = run_cli("query", *query, "--database", db, "--json", home=tmp_path / engine)
        assert ran.returncode == 0, ran.stderr
        step = json.loads(ran.stdout)["steps"][0]
        assert step["error"] is None
        rows[engine] = step["rows"]
    assert rows["duckdb"], "an empty answer proves nothing"
    same(rows["duckdb"], rows["spark"], " ".join(query))


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_through_ask_give_the_same_answer(
    question: str, databases: dict[str, str], services: Services
) -> None:
    answers = {
        engine: chatter.ask(question, database=db, services=services).model_dump(mode="json")
        for engine, db in databases.items()
    }
    duck, spark = answers["duckdb"], answers["spark"]
    assert spark["error"] is None and spark["steps"]
    same([s["rows"] for s in duck["steps"]], [s["rows"] for s in spark["steps"]], question)
    assert duck["text"] == spark["text"]
    assert spark["database"] == str(chatter.Context(database=databases["spark"]).database)


def test_the_python_api_takes_a_spark_url(databases: dict[str, str], services: Services) -> None:
    from chatter.context import Context

    results = {
        engine: services.warehouse(Context(database=db)).query(
            {"measures": ["users", "conversion_rate"], "dimensions": ["industry"]}
        )
        for engine, db in databases.items()
    }
    assert results["spark"].rows
    same(
        [list(r) for r in results["duckdb"].rows],
        [list(r) for r in results["spark"].rows],
    )
    assert "`users`" in results["spark"].sql  # the SQL as run, Spark's spelling
