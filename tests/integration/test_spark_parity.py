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
from engine_parity import (
    QUERIES,
    QUESTIONS,
    SEED,
    TEMPLATES,
    USERS,
    same,
    same_answer,
    same_grouping_sets,
    same_query_rows,
    same_template_run,
)
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
    spark = same_template_run(template, databases, services, "spark")
    # The Spark run really ran Spark SQL: backquoted names, which DuckDB does not read.
    statements = [s["sql"] for s in spark["steps"] if s["sql"]]
    assert statements and all("`" in json.dumps(sql) for sql in statements)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "_".join(q).replace(" ", ""))
def test_single_queries_on_the_cli_give_the_same_rows(
    query: list[str], databases: dict[str, str], tmp_path: Path
) -> None:
    same_query_rows(query, databases, tmp_path, "spark")


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_through_ask_give_the_same_answer(
    question: str, databases: dict[str, str], services: Services
) -> None:
    spark = same_answer(question, databases, services, "spark")
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


def test_grouping_sets_give_each_pair_its_own_rows(
    databases: dict[str, str], services: Services
) -> None:
    same_grouping_sets(databases, services, "spark")
